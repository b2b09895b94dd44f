import React from 'react';
import { Text } from './Text.js';
import { useTone, type Tone } from './Theme.js';

import { barText } from '../format.js';

export { barText };

export function ProgressBar({ ratio, width, tone }: { ratio: number; width: number; tone?: Tone }) {
  const color = useTone();
  return <Text color={color(tone ?? 'accent')}>{barText(ratio, width)}</Text>;
}
