import React from 'react';
import { Text } from './Text.js';
import { useTicker } from '../hooks/useTicker.js';
import { useTone } from './Theme.js';

const FRAMES = ['|', '/', '-', '\\'];

/** A slow spinner (4 frames a second): ink-spinner's 80 ms frames alone would redraw 12 times a second. */
export function Spinner({ label }: { label?: string }) {
  const tick = useTicker(true, 250);
  const color = useTone();
  return (
    <Text color={color('running')}>
      {FRAMES[tick % FRAMES.length]} {label ?? ''}
    </Text>
  );
}
