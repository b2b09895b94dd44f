import React, { useEffect } from 'react';
import { useInput } from 'ink';
import { CheckItems } from './CheckItems.js';
import { StepFrame } from './StepFrame.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';

/** 1 Prerequisites: runs `check` (read-only) and lists every item, failures first. Runs once on its own when opened. */
export function Prerequisites(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  useEffect(() => {
    if (!run && !busy && !session.readOnly) request({ command: 'check' });
    // only when the screen first opens
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useInput(
    (input, key) => {
      if (!busy && actionFor(info, input, key) === 'run') request({ command: 'check' });
    },
    { isActive: isActive && !session.readOnly },
  );
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={run} height={p.height} action={session.readOnly ? null : 'enter: run the checks again'}>
      {run ? <CheckItems items={run.checks} height={bodyHeight(p)} width={p.width} isActive={isActive} /> : null}
    </StepFrame>
  );
}
