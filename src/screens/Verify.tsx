import React from 'react';
import { Box, useInput } from 'ink';
import { Text } from './Text.js';
import { CheckItems } from './CheckItems.js';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { bodyHeight, type ScreenProps } from './screenProps.js';

/** 3 Verify: enter compares the structure, d the data (counts and checksums per program). Read-only, no confirmation. */
export function Verify(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  useInput(
    (input, key) => {
      if (busy) return;
      if (key.return) request({ command: 'verify', question: '', confirm: 'none' });
      else if (input === 'd') request({ command: 'verify', flags: { data: true }, question: '', confirm: 'none' });
    },
    { isActive: isActive && !session.readOnly },
  );
  const statusRows = run?.status === 'failed' ? 8 : 2;
  const h = bodyHeight(p.height, p.width, info.about, statusRows);
  const dataMode = Boolean(run?.flags.data);
  return (
    <StepFrame info={info} state={p.state} run={run} height={p.height} action={session.readOnly ? null : 'enter: verify the structure   d: verify the data'}>
      {run ? (
        <Box flexDirection="column">
          <Text bold>{dataMode ? 'Data: row counts and checksums per program' : 'Structure'}</Text>
          {run.checks.length ? <CheckItems items={run.checks} height={h - 1} isActive={isActive} /> : <StepLog log={run.log} height={h - 1} isActive={isActive} />}
        </Box>
      ) : null}
    </StepFrame>
  );
}
