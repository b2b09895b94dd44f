import React from 'react';
import { Box, useInput } from 'ink';
import { Text, Wrapped } from './Text.js';
import type { TestInsertReport } from '../steps/testInsert.js';
import { StepFrame } from './StepFrame.js';
import { StepLog } from './StepLog.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';
import { useTone } from './Theme.js';

/** 4 Test insert: asks y, copies a sample of the largest program, shows both query plans side by side. */
export function TestInsert(p: ScreenProps) {
  const { run, info, request, isActive, busy, session } = p;
  const color = useTone();
  useInput(
    (input, key) => {
      if (!busy && actionFor(info, input, key) === 'run') request({ command: 'test-insert', flags: { rows: '100' } });
    },
    { isActive: isActive && !session.readOnly },
  );
  const report = run?.status === 'done' ? (run.result?.data as TestInsertReport | undefined) : undefined;
  const h = bodyHeight(p);
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={run} height={p.height} action={session.readOnly ? null : 'enter: test insert (asks y)'}>
      {report?.comparisons ? (
        <Box flexDirection="column">
          <Text bold wrap="truncate">
            {'query form'.padEnd(10)} {'table'.padEnd(12)} {'exec ms'.padStart(9)} {'buffers'.padStart(9)} {'scanned'.padStart(9)} {'never run'.padStart(9)}
          </Text>
          {report.comparisons.flatMap((c) =>
            (
              [
                ['source', c.source],
                ['partitioned', c.partitioned],
              ] as const
            ).map(([side, m]) => (
              <Text key={`${c.form}-${side}`} wrap="truncate">
                {c.form.padEnd(10)} {side.padEnd(12)} {m.executionMs.toFixed(2).padStart(9)} {String(m.sharedHit + m.sharedRead).padStart(9)}{' '}
                {`${m.scanned.length}/${m.partitions}`.padStart(9)} {String(m.neverExecuted.length).padStart(9)}
              </Text>
            )),
          )}
          {report.comparisons.map((c) => (
            <Wrapped key={`headline-${c.form}`} text={c.headline} width={p.width} color={color('accent')} />
          ))}
          {report.notes.map((n, i) => (
            <Wrapped key={i} text={n} width={p.width} color={color('dim')} />
          ))}
        </Box>
      ) : run ? (
        <StepLog log={run.log} height={h} width={p.width} isActive={isActive} />
      ) : null}
    </StepFrame>
  );
}
