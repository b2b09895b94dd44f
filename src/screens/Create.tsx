import React from 'react';
import { useInput } from 'ink';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { bodyHeight, type ScreenProps } from './screenProps.js';

/** 2 Create: asks y, runs `create`, lists each DDL step with its locks, retries and result. */
export function Create(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  const { cfg } = session.engine;
  useInput(
    (_input, key) => {
      if (key.return && !busy) {
        request({
          command: 'create', confirm: 'y',
          question: `Create ${cfg.schema}.${cfg.newTable} with its partitions and indexes? The source ${cfg.schema}.${cfg.table} is not changed. (s shows the SQL first)`,
        });
      }
    },
    { isActive: isActive && !session.readOnly },
  );
  const statusRows = run?.status === 'failed' ? 8 : 2;
  return (
    <StepFrame info={info} state={p.state} run={run} height={p.height} action={session.readOnly ? null : 'enter: create (asks y)'}>
      {run ? <StepLog log={run.log} height={bodyHeight(p.height, p.width, info.about, statusRows)} isActive={isActive} /> : null}
    </StepFrame>
  );
}
