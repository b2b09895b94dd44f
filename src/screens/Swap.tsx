import React from 'react';
import { useInput } from 'ink';
import { Text } from './Text.js';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { bodyHeight, type ScreenProps } from './screenProps.js';
import { useTone } from './Theme.js';

/** 6 Swap: the user types the table name; shows each attempt, who blocks it, and the result. `f` finishes afterwards. */
export function Swap(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  const color = useTone();
  const { cfg } = session.engine;
  const swapped = p.journal.phase === 'swap' || p.journal.phase === 'finish';
  useInput(
    (input, key) => {
      if (busy) return;
      if (key.return && !swapped) {
        request({
          command: 'swap', confirm: 'table-name',
          question: `Swap ${cfg.schema}.${cfg.newTable} in as ${cfg.schema}.${cfg.table}? The original becomes ${cfg.oldTable} and keeps receiving every write (reverse capture), so Rollback stays possible.`,
        });
      } else if (input === 'f' && swapped) {
        request({
          command: 'finish', confirm: 'table-name', step: 'swap',
          question: `Finish: remove the capture machinery. ${cfg.schema}.${cfg.oldTable} is kept (back it up, drop it later); after this, Rollback can no longer bring back writes made from now on.`,
        });
      }
    },
    { isActive: isActive && !session.readOnly },
  );
  const statusRows = run?.status === 'failed' ? 8 : 3;
  const action = session.readOnly ? null : swapped ? 'f: finish (type the table name)' : 'enter: swap (type the table name)';
  return (
    <StepFrame info={info} state={p.state} run={run} height={p.height} action={action}>
      {swapped && !run ? <Text color={color('ok')}>{cfg.schema}.{cfg.table} is the partitioned table now; the original is {cfg.oldTable}.</Text> : null}
      {run ? <StepLog log={run.log} height={bodyHeight(p.height, p.width, info.about, statusRows)} isActive={isActive} /> : null}
    </StepFrame>
  );
}
