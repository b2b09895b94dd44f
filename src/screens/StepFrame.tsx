import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import type { StepRun } from '../hooks/runState.js';
import { formatDuration } from '../format.js';
import { ErrorBox } from './ErrorBox.js';
import { Spinner } from './Spinner.js';
import { nextInApp, type AnyStep } from '../registry/index.js';
import type { StepView } from '../state/migrationState.js';
import { STATE_SIGN, STATE_TONE } from './stateSigns.js';
import { useTone } from './Theme.js';

export interface StepFrameProps {
  info: AnyStep;
  /** the step's state in the migration, with why */
  view: StepView;
  run: StepRun | undefined;
  height: number;
  /** what enter does here, e.g. "enter: run the checks"; null when there is no action */
  action: string | null;
  /** why this step is the next one (nextHere), when it is */
  next?: string | null;
  children?: React.ReactNode;
}

/** A step's screen: title and state (and why), one paragraph on what it does and locks, the run's status, then the body. */
export function StepFrame({ info, view, run, height, action, next, children }: StepFrameProps) {
  const color = useTone();
  const state = view.state;
  return (
    <Box flexDirection="column" height={height} overflowY="hidden" flexGrow={1}>
      <Text wrap="truncate">
        <Text bold>
          {info.key}. {info.title}
        </Text>
        <Text color={color(STATE_TONE[state])}>
          {'  '}
          {STATE_SIGN[state]} {state}
        </Text>
        {action && !run?.status.startsWith('running') ? <Text color={color('accent')}>{'   '}{action}</Text> : null}
      </Text>
      {view.note ? <Text wrap="wrap" color={color(STATE_TONE[state])}>{view.note}</Text> : null}
      {next && !run?.status.startsWith('running') ? <Text wrap="wrap" color={color('accent')}>→ {next}</Text> : null}
      <Text wrap="wrap" color={color('dim')}>{info.about}</Text>
      <RunStatus run={run} />
      {children}
    </Box>
  );
}

/** Spinner while running (with the lock wait, if any), the result when done, the error when failed. */
export function RunStatus({ run }: { run: StepRun | undefined }) {
  const color = useTone();
  if (!run) return null;
  if (run.status === 'running') {
    const lastStart = [...run.log].reverse().find((e) => e.type === 'step.start');
    return (
      <Box flexDirection="column">
        <Spinner label={run.stopping ? 'stopping at the next safe point (the current batch commits)…' : `running ${run.command}${lastStart && lastStart.type === 'step.start' ? `: ${lastStart.title}` : ''}…`} />
        {run.retry ? (
          <Text color={color('warn')} wrap="truncate">
            waiting for a lock: attempt {run.retry.attempt}/{run.retry.attempts}, next in {formatDuration(run.retry.delayMs)}
            {run.retry.blockers.length ? `; blocked by ${run.retry.blockers.map((b) => `pid ${b.pid}${b.query ? ` (${b.query.replace(/\s+/g, ' ').slice(0, 60)})` : ''}`).join(', ')}` : ''}
          </Text>
        ) : null}
      </Box>
    );
  }
  if (run.status === 'failed' && run.failure) return <ErrorBox error={run.failure} summary={run.result?.summary} />;
  const ms = (run.finishedAt ?? run.startedAt) - run.startedAt;
  return (
    <Text color={color('ok')} wrap="wrap">
      ✔ {run.result?.summary ?? 'done'} ({formatDuration(ms)}){run.result?.next ? `. Next: ${nextInApp(run.result.next)}` : ''}
    </Text>
  );
}
