import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { STEPS, ROLLBACK, type StepId } from './steps.js';
import { STATE_SIGN, type StepState } from './stepState.js';
import { useTone, type Tone } from './Theme.js';

const TONE: Record<StepState, Tone | undefined> = { pending: 'dim', running: 'running', done: 'ok', failed: 'fail', skipped: 'dim', interrupted: 'warn' };

export interface ChecklistProps {
  states: Record<string, StepState>;
  current: StepId;
  next: StepId | null;
  rollbackAvailable: boolean;
  /** a one-line header (narrow terminals) instead of a side column */
  compact: boolean;
}

/** The seven steps with their state from the journal, the current one marked and the next one named. */
export function Checklist({ states, current, next, rollbackAvailable, compact }: ChecklistProps) {
  const color = useTone();
  if (compact) {
    return (
      <Box>
        <Text wrap="truncate">
          {STEPS.map((s) => (
            <Text key={s.id} inverse={s.id === current} color={color(TONE[states[s.id] ?? 'pending'])}>
              {` ${s.key}${STATE_SIGN[states[s.id] ?? 'pending']}${s.id === current ? s.title : ''} `}
            </Text>
          ))}
          {next ? <Text color={color('dim')}> next: {STEPS.find((s) => s.id === next)!.key}</Text> : null}
        </Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={22} borderStyle="single" borderRight borderLeft={false} borderTop={false} borderBottom={false} paddingRight={1}>
      <Text bold>Checklist</Text>
      {STEPS.map((s) => {
        const st = states[s.id] ?? 'pending';
        return (
          <Text key={s.id} wrap="truncate" inverse={s.id === current} color={color(TONE[st])}>
            {`${s.key} ${STATE_SIGN[st]} ${s.title}`}
            {s.id === next ? ' ←' : ''}
          </Text>
        );
      })}
      <Text> </Text>
      {rollbackAvailable ? (
        <Text wrap="truncate" inverse={current === 'rollback'} color={color(TONE[states.rollback ?? 'pending'])}>
          {`R ${STATE_SIGN[states.rollback ?? 'pending']} ${ROLLBACK.title}`}
        </Text>
      ) : null}
      <Text color={color('dim')} wrap="truncate">{next ? `next: ${STEPS.find((s) => s.id === next)!.title}` : 'all done'}</Text>
      <Text color={color('dim')} wrap="truncate">✔ done ✘ failed</Text>
      <Text color={color('dim')} wrap="truncate">! interrupted</Text>
    </Box>
  );
}
