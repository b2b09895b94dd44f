import React from 'react';
import { useInput } from 'ink';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';
import { ChildTables } from './ChildTables.js';
import { childLines } from '../state/children.js';

/** 2 Create: asks y, runs `create`, lists each DDL step with its locks, retries and result. */
export function Create(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  useInput(
    (input, key) => {
      if (!busy && actionFor(info, input, key) === 'run') request({ command: 'create' });
    },
    { isActive: isActive && !session.readOnly },
  );
  const children = childLines(p.migration.children, run?.children ?? []);
  const childRows = children.length ? Math.min(children.length + 1, 4) : 0;
  const { cfg } = session.engine;
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={run} height={p.height} action={session.readOnly ? null : 'enter: create (asks y)'}>
      <ChildTables lines={children} width={p.width} max={childRows} title={`Referencing tables: ${cfg.key} added, filled by a trigger (foreign key without ${cfg.key})`} />
      {run ? <StepLog log={run.log} height={bodyHeight(p, childRows)} width={p.width} isActive={isActive} /> : null}
    </StepFrame>
  );
}
