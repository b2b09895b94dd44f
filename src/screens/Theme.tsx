import React, { createContext, useContext } from 'react';

/** Colors are a hint, never the only signal (NO_COLOR, monochrome terminals): every state also has a word or a sign. */
export type Tone = 'ok' | 'warn' | 'fail' | 'accent' | 'dim' | 'running';

const TONES: Record<Tone, string> = { ok: 'green', warn: 'yellow', fail: 'red', accent: 'cyan', dim: 'gray', running: 'blue' };

const ColorContext = createContext(true);

export function ColorProvider({ enabled, children }: { enabled: boolean; children: React.ReactNode }) {
  return <ColorContext.Provider value={enabled}>{children}</ColorContext.Provider>;
}

/** The Ink color for a tone, or undefined when colors are off. */
export function useTone(): (tone: Tone | undefined) => string | undefined {
  const enabled = useContext(ColorContext);
  return (tone) => (enabled && tone ? TONES[tone] : undefined);
}

/**
 * The selection's mark, shown with or without colors: inverse video alone vanishes under NO_COLOR and on terminals
 * without attributes, so the selected item also carries this sign (unselected items a space of the same width).
 */
export const SELECTED = '›';
export const selectedMark = (selected: boolean) => (selected ? SELECTED : ' ');

export function useColorsEnabled(): boolean {
  return useContext(ColorContext);
}
