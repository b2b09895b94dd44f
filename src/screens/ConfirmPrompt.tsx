import React, { useRef, useState } from 'react';
import { Box, useInput } from 'ink';
import { Text, Wrapped } from './Text.js';
import { useTone } from './Theme.js';
import { wrapLines } from '../text/wrap.js';

export interface ConfirmRequest {
  question: string;
  /** 'y': one key; otherwise the exact text to type (the table name) followed by enter, and what it is in words */
  expect: 'y' | { typed: string; what?: string };
  onYes(): void;
}

/** The rows the prompt takes at `width` columns: its border, the question wrapped, and the answer's lines. */
export function confirmRows(request: ConfirmRequest, width: number): number {
  return 2 + wrapLines(request.question, width - 4).length + (request.expect === 'y' ? 1 : 3);
}

/** Asks before a change: `y` for create, test insert and migrate; the table name for swap, rollback and finish; the partition's name for archive. */
export function ConfirmPrompt({ request, onCancel, width }: { request: ConfirmRequest; onCancel(): void; width: number }) {
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
      <Wrapped text={request.question} width={width - 4} />
      {request.expect === 'y' ? (
        <Text bold wrap="truncate">Press y to go ahead, any other key to cancel.</Text>
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
          {wrong ? <Text color={color('fail')}>That is not {request.expect.what ?? 'the table name'}: nothing was done. Try again or press esc.</Text> : null}
        </>
      )}
    </Box>
  );
}
