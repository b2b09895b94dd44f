import React from 'react';
import { Box, useInput } from 'ink';
import { Text } from './Text.js';
import { CheckItems } from './CheckItems.js';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';

/** 3 Verify: enter compares the structure, d the data (counts and checksums per program). Read-only, no confirmation. */
export function Verify(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  useInput(
    (input, key) => {
      if (busy) return;
      const action = actionFor(info, input, key);
      if (action === 'run') request({ command: 'verify' });
      else if (action === 'data') request({ command: 'verify', flags: { data: true } });
    },
    { isActive: isActive && !session.readOnly },
  );
  const h = bodyHeight(p);
  const dataMode = Boolean(run?.flags.data);
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={run} height={p.height} action={session.readOnly ? null : 'enter: verify the structure   d: verify the data'}>
      {run ? (
        <Box flexDirection="column">
          <Text bold>{dataMode ? 'Data: row counts and checksums per program' : 'Structure'}</Text>
          {run.checks.length ? <CheckItems items={run.checks} height={h - 1} width={p.width} isActive={isActive} /> : <StepLog log={run.log} height={h - 1} width={p.width} isActive={isActive} />}
        </Box>
      ) : null}
    </StepFrame>
  );
}
