import React from 'react';
import { useInput } from 'ink';
import { Text } from './Text.js';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { bodyHeight, type ScreenProps } from './screenProps.js';
import { useTone } from './Theme.js';

/** Rollback (R): before or after the swap; the user types the table name. */
export function Rollback(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  const color = useTone();
  const { cfg } = session.engine;
  const swapped = p.journal.phase === 'swap' || p.journal.phase === 'finish';
  useInput(
    (_input, key) => {
      if (key.return && !busy) {
        request({
          command: 'rollback', confirm: 'table-name',
          question: swapped
            ? `Swap back: ${cfg.schema}.${cfg.oldTable} becomes ${cfg.schema}.${cfg.table} again, with every write made since the swap?`
            : `Drop ${cfg.schema}.${cfg.newTable}, its partitions and the capture machinery? ${cfg.schema}.${cfg.table} stays exactly as it is.`,
        });
      }
    },
    { isActive: isActive && !session.readOnly },
  );
  const statusRows = run?.status === 'failed' ? 8 : 3;
  return (
    <StepFrame info={info} state={p.state} run={run} height={p.height} action={session.readOnly ? null : 'enter: rollback (type the table name)'}>
      <Text color={color('warn')} wrap="truncate">
        {swapped ? 'The swap is done: rollback swaps back.' : 'Before the swap: rollback drops the new table.'}
      </Text>
      {run ? <StepLog log={run.log} height={bodyHeight(p.height, p.width, info.about, statusRows) - 1} isActive={isActive} /> : null}
    </StepFrame>
  );
}
