import React, { useState } from 'react';
import { Box, useInput } from 'ink';
import { Text } from './Text.js';
import type { ProgramState } from '../events.js';
import { formatDuration } from '../format.js';
import type { OverallEvent, ProgressEvent } from '../hooks/runState.js';
import { BATCH_SIZES, RATES, stepThrough, useControls } from '../hooks/useControls.js';
import { useWindowedList } from '../hooks/useWindowedList.js';
import { ProgressBar } from './ProgressBar.js';
import { StepFrame } from './StepFrame.js';
import { WindowedList } from './WindowedList.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';
import { useTone, type Tone } from './Theme.js';
import { MIGRATE_MODES as MODES, MODE_WORDS, WORKER_CHOICES } from '../registry/steps/migrate.js';

export type Mode = (typeof MODES)[number];

/** In `all` mode one pass over the table fills every program: said on the screen, so equal bars surprise no one. */
const ALL_MODE_NOTE = 'all: one pass over the table copies every program at once; the bars move together, each with its own rate and ETA';

/** Active programs first (copying, verifying, paused), then failed, waiting, done; ties in the engine's order. */
const RANK: Record<ProgramState, number> = { copying: 0, verifying: 1, paused: 2, failed: 3, waiting: 4, done: 5 };
const TONE: Record<ProgramState, Tone> = { copying: 'running', verifying: 'running', paused: 'warn', failed: 'fail', waiting: 'dim', done: 'ok' };

export function sortPrograms(list: ProgressEvent[]): ProgressEvent[] {
  return list.map((p, i) => ({ p, i })).sort((a, b) => RANK[a.p.state] - RANK[b.p.state] || a.i - b.i).map((x) => x.p);
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const eta = (s: number | null) => (s === null ? '-' : formatDuration(s * 1000));
const pct = (copied: number, total: number) => (total > 0 ? `${Math.floor((copied / total) * 100)}%` : copied > 0 ? '100%' : '0%');

/** 5 Migrate: choose the mode, confirm with y, then one bar per program, an overall bar, the backlog and live controls. */
export function Migrate(p: ScreenProps) {
  const { run, info, request, isActive, busy, session, migration } = p;
  const color = useTone();
  const [mode, setMode] = useState<Mode>('all');
  // the config's workers until w changes it here
  const [workers, setWorkers] = useState<number>(session.engine.cfg.workers);
  const controlsView = useControls(session, isActive);
  const programs = run?.programs.length ? run.programs : (p.journalProgress?.programs ?? []);
  const overall: OverallEvent | null = run?.overall ?? p.journalProgress?.overall ?? null;
  const running = run?.status === 'running';
  // the controls in force: this terminal's change until the migration's next read, then the journal's (any terminal's)
  const controls = controlsView.controls && (controlsView.changedAt > Date.parse(migration.readAt) || !migration.controls) ? controlsView.controls : migration.controls;
  const shownMode = running ? ((run?.flags.mode as Mode | undefined) ?? mode) : mode;
  const shownWorkers = running && typeof run?.flags.workers === 'string' ? Number(run.flags.workers) : workers;
  const copy = migration.copy;
  const where = copy && !copy.complete && copy.copied > 0
    ? copy.running && !running
      ? `migrate is running in another session (server pid ${migration.running?.pid ?? '?'}): ${copy.percent ?? '?'}% (${n(copy.copied)} rows copied)${copy.paused ? ', paused' : ''}`
      : !running ? `resume at ${copy.percent ?? '?'}% (${n(copy.copied)} rows copied): enter continues from the last committed batch` : null
    : null;

  const statusRows = run?.status === 'failed' ? 8 : 2;
  const allNote = shownMode === 'all' && programs.length > 1;
  const h = bodyHeight(p, statusRows) - 3 - (where ? 1 : 0) - (allNote ? 1 : 0);
  const sorted = sortPrograms(programs);
  const win = useWindowedList(sorted.length, h - 2, { isActive });

  useInput(
    (input, key) => {
      const action = actionFor(info, input, key);
      if (action === 'run') {
        if (!busy) request({ command: 'migrate', flags: { mode, workers: String(workers) } });
        return;
      }
      if (action === 'mode' && !running) setMode((m) => MODES[(MODES.indexOf(m) + 1) % MODES.length]!);
      if (action === 'workers' && !running) setWorkers((w) => WORKER_CHOICES.find((c) => c > w) ?? WORKER_CHOICES[0]);
      // keys typed quickly over a slow link arrive together ("bb"): each one counts
      for (const ch of input.length > 1 && /^[pbB+\- ]+$/.test(input) ? [...input] : [input]) {
        const a = actionFor(info, ch, {});
        if (a === 'pause') controlsView.change((c) => ({ paused: !c.paused }));
        else if (a === 'rate') controlsView.change((c) => ({ maxRate: stepThrough(RATES, c.maxRate, ch === '+' ? 1 : -1) }));
        else if (a === 'batch') controlsView.change((c) => ({ batchSize: stepThrough(BATCH_SIZES, c.batchSize, ch === 'B' ? 1 : -1) }));
      }
    },
    { isActive: isActive && !session.readOnly },
  );

  const labelW = 16;
  const barW = Math.max(8, Math.min(30, p.width - 66));
  return (
    <StepFrame info={info} view={p.view} next={nextHere(p)} run={run} height={p.height} action={session.readOnly ? null : 'enter: migrate (asks y)'}>
      <Box flexDirection="column">
        {where ? <Text color={color('accent')} wrap="truncate">{where}</Text> : null}
        <Text wrap="truncate">
          mode:{' '}
          {MODES.map((m) => (
            <Text key={m} inverse={m === shownMode}>
              {` ${m} `}
            </Text>
          ))}
          <Text color={color('dim')}> (m) · </Text>
          {`workers ${shownWorkers}`}
          <Text color={color('dim')}> (w) · </Text>
          {controls ? (
            <Text>
              <Text color={color(controls.paused ? 'warn' : 'ok')}>{controls.paused ? 'PAUSED' : 'running'}</Text>
              {` · batch ${n(controls.batchSize)} rows · rate ${controls.maxRate === null ? 'no limit' : `${n(controls.maxRate)} rows/s`}`}
            </Text>
          ) : (
            <Text color={color('dim')}>{controlsView.error ? `controls: ${controlsView.error}` : 'controls: -'}</Text>
          )}
        </Text>
        {overall ? (
          <Text wrap="truncate">
            {'overall'.padEnd(labelW)} <ProgressBar ratio={overall.total ? overall.copied / overall.total : 1} width={barW} /> {`${n(overall.copied)}/${n(overall.total)}`.padStart(19)}{' '}
            {pct(overall.copied, overall.total).padStart(4)} {`${n(overall.rowsPerSec)}/s`.padStart(9)} ETA {eta(overall.etaSec)} · backlog {n(overall.backlog)}
          </Text>
        ) : (
          <Text color={color('dim')}>{MODE_WORDS[mode]}</Text>
        )}
        {allNote ? <Text color={color('dim')} wrap="truncate">{ALL_MODE_NOTE}</Text> : null}
        <Text bold wrap="truncate">
          {'program'.padEnd(labelW)} {'progress'.padEnd(barW)} {'copied/total'.padStart(19)} {'%'.padStart(4)} {'rows/s'.padStart(9)} {'ETA'.padStart(8)} state
        </Text>
        <WindowedList
          items={sorted}
          offset={win.offset}
          height={h}
          itemKey={(x) => x.program}
          render={(x) => (
            <Text wrap="truncate">
              {(x.label ?? x.program).slice(0, labelW).padEnd(labelW)} <ProgressBar ratio={x.total ? x.copied / x.total : x.state === 'done' ? 1 : 0} width={barW} tone={TONE[x.state]} />{' '}
              {`${n(x.copied)}/${n(x.total)}`.padStart(19)} {pct(x.copied, x.total).padStart(4)} {`${n(x.rowsPerSec)}`.padStart(9)} {eta(x.etaSec).padStart(8)}{' '}
              <Text color={color(TONE[x.state])}>{x.state}</Text>
            </Text>
          )}
        />
      </Box>
    </StepFrame>
  );
}
