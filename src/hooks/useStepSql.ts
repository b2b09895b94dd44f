import { useEffect, useState } from 'react';
import type { AppSession } from '../screens/session.js';
import type { AnyStep } from '../registry/index.js';
import { previewOf, previewScript } from '../registry/preview.js';
import type { MigrationState } from '../state/migrationState.js';
import { onView } from './viewSession.js';

/** The step's SQL (its registry preview, with the lock_timeout the step runs with), planned when the panel opens and again when the migration's phase changes. */
export function useStepSql(session: AppSession, step: AnyStep, open: boolean, state: MigrationState | null): string | null {
  const [text, setText] = useState<string | null>(null);
  const phase = state?.phase ?? null;
  useEffect(() => {
    if (!open || !state) return;
    let current = true;
    setText(null);
    const preview = step.preview
      ? onView(session, (c) => previewOf(step, c, session.engine.cfg, session.engine.retry, state)).then(previewScript)
      : Promise.resolve(`-- ${step.command} runs no SQL of its own`);
    preview.then(
      (t) => current && setText(t),
      (e: Error) => current && setText(`-- cannot show the SQL yet: ${e.message}`),
    );
    return () => {
      current = false;
    };
    // the state's phase, not every read of it: the SQL is planned again when the migration moved on
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session, step, open, phase]);
  return text;
}
