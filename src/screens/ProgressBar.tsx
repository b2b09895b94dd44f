import React from 'react';
import { Text } from './Text.js';
import { useTone, type Tone } from './Theme.js';

/** The bar's characters: full blocks for done, light shade for the rest (readable without color). */
export function barText(ratio: number, width: number): string {
  const w = Math.max(1, width);
  const r = Number.isFinite(ratio) ? Math.max(0, Math.min(1, ratio)) : 0;
  const full = Math.round(r * w);
  return '█'.repeat(full) + '░'.repeat(w - full);
}

export function ProgressBar({ ratio, width, tone }: { ratio: number; width: number; tone?: Tone }) {
  const color = useTone();
  return <Text color={color(tone ?? 'accent')}>{barText(ratio, width)}</Text>;
}
