import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { CHECKLIST, ROLLBACK_STEP, type AnyStep, type ChecklistId } from '../registry/index.js';
import type { MigrationState, StateStepId } from '../state/migrationState.js';
import { STATE_SIGN, STATE_TONE } from './stateSigns.js';
import { useTone } from './Theme.js';

export interface ChecklistProps {
  migration: MigrationState;
  current: ChecklistId;
  rollbackAvailable: boolean;
  /** a one-line header (narrow terminals) instead of a side column */
  compact: boolean;
}

const stateOf = (m: MigrationState, s: AnyStep) => m.steps[(s.stateOf ?? s.id) as StateStepId].state;

/** The seven steps with their state in the migration, the current one marked and the next one named. */
export function Checklist({ migration, current, rollbackAvailable, compact }: ChecklistProps) {
  const color = useTone();
  const next = migration.next ? CHECKLIST.find((s) => s.id === migration.next!.step) : undefined;
  if (compact) {
    return (
      <Box>
        <Text wrap="truncate">
          {CHECKLIST.map((s) => (
            <Text key={s.id} inverse={s.id === current} color={color(STATE_TONE[stateOf(migration, s)])}>
              {` ${s.key}${STATE_SIGN[stateOf(migration, s)]}${s.id === current ? s.title : ''} `}
            </Text>
          ))}
          {rollbackAvailable ? (
            <Text inverse={current === 'rollback'} color={color(STATE_TONE[stateOf(migration, ROLLBACK_STEP)])}>{` R${STATE_SIGN[stateOf(migration, ROLLBACK_STEP)]} `}</Text>
          ) : null}
          {next ? <Text color={color('dim')}> next: {next.key}</Text> : null}
        </Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={22} borderStyle="single" borderRight borderLeft={false} borderTop={false} borderBottom={false} paddingRight={1}>
      <Text bold>Checklist</Text>
      {CHECKLIST.map((s) => {
        const st = stateOf(migration, s);
        return (
          <Text key={s.id} wrap="truncate" inverse={s.id === current} color={color(STATE_TONE[st])}>
            {`${s.key} ${STATE_SIGN[st]} ${s.title}`}
            {s.id === next?.id ? ' ←' : ''}
          </Text>
        );
      })}
      <Text> </Text>
      {rollbackAvailable ? (
        <Text wrap="truncate" inverse={current === 'rollback'} color={color(STATE_TONE[stateOf(migration, ROLLBACK_STEP)])}>
          {`R ${STATE_SIGN[stateOf(migration, ROLLBACK_STEP)]} ${ROLLBACK_STEP.title}`}
        </Text>
      ) : null}
      <Text color={color('dim')} wrap="truncate">{next ? `next: ${next.title}` : migration.next ? `next: ${migration.next.command}` : 'all done'}</Text>
      <Text color={color('dim')} wrap="truncate">✔ done ✘ failed</Text>
      <Text color={color('dim')} wrap="truncate">! interrupted ~ stale</Text>
    </Box>
  );
}
