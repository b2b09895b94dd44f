import React from 'react';
import { Text } from './Text.js';
import { useTone } from './Theme.js';

export type KeyHint = [key: string, what: string];

/** One line with the keys that work on this screen. */
export function Footer({ keys }: { keys: KeyHint[] }) {
  const color = useTone();
  return (
    <Text wrap="truncate">
      {keys.map(([k, what], i) => (
        <Text key={`${k}${i}`}>
          <Text bold color={color('accent')}>{k}</Text>
          <Text> {what}  </Text>
        </Text>
      ))}
    </Text>
  );
}
