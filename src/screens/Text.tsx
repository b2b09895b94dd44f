import React from 'react';
import { Text as InkText } from 'ink';
import { shown, shownBlock } from '../text/safe.js';

type TextProps = React.ComponentProps<typeof InkText>;

function escapeChildren(children: React.ReactNode, escape: (s: string) => string): React.ReactNode {
  return React.Children.map(children, (c) => (typeof c === 'string' ? escape(c) : c));
}

/**
 * Ink's Text for every screen: each string child is shown with its control characters escaped (src/text/safe.ts),
 * so a label, key, name or server message can never move the cursor or repaint the terminal. Screens import Text
 * from here, never from ink (test/safe-output.test.tsx checks it).
 */
export function Text({ children, ...props }: TextProps) {
  return <InkText {...props}>{escapeChildren(children, shown)}</InkText>;
}

/** One line of SQL (the SQL pane): control characters escaped, backslashes kept as the SQL has them. */
export function SqlText({ children, ...props }: TextProps) {
  return <InkText {...props}>{escapeChildren(children, shownBlock)}</InkText>;
}
