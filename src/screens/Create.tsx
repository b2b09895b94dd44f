import React from 'react';
import { useInput } from 'ink';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';

/** 2 Create: asks y, runs `create`, lists each DDL step with its locks, retries and result. */
export function Create(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  useInput(
    (input, key) => {
      if (!busy && actionFor(info, input, key) === 'run') request({ command: 'create' });
    },
    { isActive: isActive && !session.readOnly },
  );
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={run} height={p.height} action={session.readOnly ? null : 'enter: create (asks y)'}>
      {run ? <StepLog log={run.log} height={bodyHeight(p)} width={p.width} isActive={isActive} /> : null}
    </StepFrame>
  );
}
