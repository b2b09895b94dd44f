import React from 'react';
import { useInput } from 'ink';
import { Text } from './Text.js';
import type { MigrationState } from '../state/migrationState.js';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { actionFor, bodyHeight, type ScreenProps } from './screenProps.js';
import { useTone } from './Theme.js';
import { wrapLines } from '../text/wrap.js';

/** What a rollback would do now, from the migration's state. */
function whatItDoes(m: MigrationState): string {
  switch (m.phase) {
    case 'swapped':
      return `The swap is done: rollback swaps back (${m.oldTable} becomes ${m.table} again, with every write made since).`;
    case 'finished':
      return 'Finished: change capture is removed, so a rollback would lose the writes made since; it is refused.';
    case 'rolled-back':
      return m.swappedBack
        ? `Swapped back: ${m.table} is the original again. Rollback now removes ${m.newTable} and the capture (the source stays as it is).`
        : `Rolled back: ${m.newTable} is removed and ${m.table} is as it was. Nothing left to roll back.`;
    case 'nothing':
      return 'Nothing to roll back yet.';
    default:
      return `Before the swap: rollback drops ${m.newTable}, its partitions and the capture; ${m.table} stays exactly as it is.`;
  }
}

/** Rollback (R): before or after the swap; the user types the table name. */
export function Rollback(p: ScreenProps) {
  const { run, info, request, isActive, busy, session, migration } = p;
  const color = useTone();
  useInput(
    (input, key) => {
      if (!busy && actionFor(info, input, key) === 'run') request({ command: 'rollback' });
    },
    { isActive: isActive && !session.readOnly },
  );
  return (
    <StepFrame info={info} width={p.width} view={p.view} run={run} height={p.height} action={session.readOnly ? null : 'enter: rollback (type the table name)'}>
      <Text color={color('warn')} wrap="wrap">{whatItDoes(migration)}</Text>
      {run ? <StepLog log={run.log} height={bodyHeight(p, wrapLines(whatItDoes(migration), p.width).length)} width={p.width} isActive={isActive} /> : null}
    </StepFrame>
  );
}
