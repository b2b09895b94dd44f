import React from 'react';
import { Text as InkText } from 'ink';
import { shown, shownBlock } from '../text/safe.js';
import { wrapLines } from '../text/wrap.js';

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

/**
 * A paragraph wrapped to `width` columns by wrapLines, one Text per line: the same lines the screens count when they
 * share out their rows (Ink's own wrapping can differ by a line, and leaves a space at the start of some).
 */
export function Wrapped({ text, width, indent, ...props }: TextProps & { text: string; width: number; indent?: string }) {
  return (
    <>
      {wrapLines(text, width, indent).map((line, i) => (
        <Text key={i} {...props} wrap="truncate">
          {line}
        </Text>
      ))}
    </>
  );
}
