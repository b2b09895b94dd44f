import { useEffect, useState } from 'react';
import type { AppSession } from '../screens/session.js';
import type { StepId } from '../screens/steps.js';
import { stepSql } from './stepSql.js';

/** The step's SQL, planned when the panel opens (and again when the journal's phase changes). */
export function useStepSql(session: AppSession, step: StepId, open: boolean, phase: string | null): string | null {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    let current = true;
    setText(null);
    stepSql(session.view, session.engine.cfg, step, phase === 'swap' || phase === 'finish').then((t) => current && setText(t));
    return () => {
      current = false;
    };
  }, [session, step, open, phase]);
  return text;
}
