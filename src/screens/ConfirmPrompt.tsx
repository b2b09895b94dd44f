import React, { useRef, useState } from 'react';
import { Box, useInput } from 'ink';
import { Text } from './Text.js';
import { useTone } from './Theme.js';

export interface ConfirmRequest {
  question: string;
  /** 'y': one key; otherwise the exact text to type (the table name) followed by enter */
  expect: 'y' | { typed: string };
  onYes(): void;
}

/** Asks before a change: `y` for create, test insert and migrate; the table name for swap, rollback and finish. */
export function ConfirmPrompt({ request, onCancel }: { request: ConfirmRequest; onCancel(): void }) {
  const color = useTone();
  const [typed, setTyped] = useState('');
  const [wrong, setWrong] = useState(false);
  // keys can arrive faster than renders (a paste, tmux send-keys): the latest text lives in a ref, not in the closure
  const typedRef = useRef('');
  const setText = (next: string) => {
    typedRef.current = next;
    setTyped(next);
  };
  useInput((input, key) => {
    if (request.expect === 'y') {
      if (input === 'y' || input === 'Y') request.onYes();
      else onCancel();
      return;
    }
    if (key.escape) return onCancel();
    if (key.return) {
      if (typedRef.current === request.expect.typed) request.onYes();
      else {
        setWrong(true);
        setText('');
      }
      return;
    }
    if (key.backspace || key.delete) return setText(typedRef.current.slice(0, -1));
    if (input && !key.ctrl && !key.meta) {
      setWrong(false);
      // a pasted name may carry its own enter
      const text = input.replace(/[\r\n]+$/, '');
      setText(typedRef.current + text);
      if (text !== input && typedRef.current === request.expect.typed) request.onYes();
    }
  });
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={color('warn')} paddingX={1}>
      <Text wrap="wrap">{request.question}</Text>
      {request.expect === 'y' ? (
        <Text bold>Press y to go ahead, any other key to cancel.</Text>
      ) : (
        <>
          <Text>
            Type <Text bold>{request.expect.typed}</Text> and press enter (esc cancels):
          </Text>
          <Text>
            {'> '}
            {typed}
            <Text inverse> </Text>
          </Text>
          {wrong ? <Text color={color('fail')}>That is not the table name: nothing was done. Try again or press esc.</Text> : null}
        </>
      )}
    </Box>
  );
}
