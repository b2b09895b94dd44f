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

export function useColorsEnabled(): boolean {
  return useContext(ColorContext);
}
