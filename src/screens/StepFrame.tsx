import React from 'react';
import { Box } from 'ink';
import { Text, Wrapped } from './Text.js';
import type { StepRun } from '../hooks/runState.js';
import { formatDuration, transferLine } from '../format.js';
import { ErrorBox, errorBoxRows } from './ErrorBox.js';
import { wrapLines } from '../text/wrap.js';
import { Spinner } from './Spinner.js';
import { nextInApp, type AnyStep } from '../registry/index.js';
import type { StepView } from '../state/migrationState.js';
import { STATE_SIGN, STATE_TONE } from './stateSigns.js';
import { useTone } from './Theme.js';
import { aboutShown } from './screenProps.js';

export interface StepFrameProps {
  info: AnyStep;
  /** the step's state in the migration, with why */
  view: StepView;
  run: StepRun | undefined;
  height: number;
  /** the screen's width: the paragraphs are wrapped to it (and counted with the same lines) */
  width: number;
  /** what enter does here, e.g. "enter: run the checks"; null when there is no action */
  action: string | null;
  /** why this step is the next one (nextHere), when it is */
  next?: string | null;
  children?: React.ReactNode;
}

/** A step's screen: title and state (and why), one paragraph on what it does and locks, the run's status, then the body. */
export function StepFrame({ info, view, run, height, width, action, next, children }: StepFrameProps) {
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
      {view.note ? <Wrapped text={view.note} width={width} color={color(STATE_TONE[state])} /> : null}
      {next && !run?.status.startsWith('running') ? <Wrapped text={`→ ${next}`} width={width} color={color('accent')} /> : null}
      {aboutShown({ height, info, run }) ? <Wrapped text={info.about} width={width} color={color('dim')} /> : null}
      <RunStatus run={run} width={width} />
      {children}
    </Box>
  );
}

/** Spinner while running (with the lock wait, if any), the result when done, the error when failed. */
export function RunStatus({ run, width }: { run: StepRun | undefined; width: number }) {
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
        {run.transfer ? <Text wrap="truncate">{transferLine(run.transfer)}</Text> : null}
      </Box>
    );
  }
  if (run.status === 'failed' && run.failure) return <ErrorBox error={run.failure} summary={run.result?.summary} />;
  return <Wrapped text={doneText(run)} width={width} color={color('ok')} />;
}

/** A finished run's line: the result, how long it took, and what is next in the app's words. */
export function doneText(run: StepRun): string {
  const ms = (run.finishedAt ?? run.startedAt) - run.startedAt;
  return `✔ ${run.result?.summary ?? 'done'} (${formatDuration(ms)})${run.result?.next ? `. Next: ${nextInApp(run.result.next)}` : ''}`;
}

/** The rows RunStatus takes at `width` columns (the screens give the rest to their lists). */
export function runStatusRows(run: StepRun | undefined, width: number): number {
  if (!run) return 0;
  if (run.status === 'running') return 1 + (run.retry ? wrapLines('waiting for a lock: attempt 1/1, next in 1 s; blocked by pid 1', width).length : 0);
  if (run.status === 'failed' && run.failure) return errorBoxRows(run.failure, run.result?.summary, width);
  return wrapLines(doneText(run), width).length;
}
