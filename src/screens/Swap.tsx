import React from 'react';
import { useInput } from 'ink';
import { Text } from './Text.js';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';
import { useTone } from './Theme.js';
import { ChildTables } from './ChildTables.js';
import { childLines } from '../state/children.js';

/** 6 Swap: the user types the table name; shows each attempt, who blocks it, and the result. `f` finishes afterwards. */
export function Swap(p: ScreenProps) {
  const { run, info, request, isActive, busy, session, migration } = p;
  const color = useTone();
  const { cfg } = session.engine;
  const swapped = migration.phase === 'swapped' || migration.phase === 'finished';
  useInput(
    (input, key) => {
      if (busy) return;
      const action = actionFor(info, input, key);
      // enter after the swap has nothing to do (f finishes, R swaps back); f before it gets the state's answer
      if (action === 'run' && !swapped) request({ command: 'swap' });
      else if (action === 'finish') request({ command: 'finish', step: 'swap' });
    },
    { isActive: isActive && !session.readOnly },
  );
  const children = childLines(migration.children, run?.children ?? []);
  const childRows = children.length ? Math.min(children.length + 1, 4) : 0;
  const action = session.readOnly ? null : swapped ? (migration.phase === 'finished' ? null : 'f: finish (type the table name)') : 'enter: swap (type the table name)';
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={run} height={p.height} action={action}>
      {swapped && !run ? (
        <Text color={color('ok')} wrap="wrap">
          {migration.phase === 'finished' ? `Finished: ${cfg.schema}.${cfg.table} is the partitioned table and change capture is removed.` : `${cfg.schema}.${cfg.table} is the partitioned table now; the original is ${cfg.oldTable} and keeps receiving every write.`}
        </Text>
      ) : null}
      <ChildTables lines={children} width={p.width} max={childRows} title={`Referencing tables: their foreign key becomes (columns, ${cfg.key}) at the swap`} />
      {run ? <StepLog log={run.log} height={bodyHeight(p, childRows)} width={p.width} isActive={isActive} /> : null}
    </StepFrame>
  );
}
