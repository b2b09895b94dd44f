import React, { useState } from 'react';
import { Box, useInput } from 'ink';
import { Text, Wrapped } from './Text.js';
import type { ProgramState } from '../events.js';
import { formatDuration } from '../format.js';
import type { OverallEvent, ProgressEvent } from '../hooks/runState.js';
import { BATCH_SIZES, RATES, stepThrough, useControls, type ControlsView } from '../hooks/useControls.js';
import { useWindowedList } from '../hooks/useWindowedList.js';
import { ProgressBar } from './ProgressBar.js';
import { StepFrame } from './StepFrame.js';
import { listRows, WindowedList } from './WindowedList.js';
import { wrapLines } from '../text/wrap.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';
import { selectedMark, useTone, type Tone } from './Theme.js';
import { MIGRATE_MODES as MODES, MODE_WORDS, WORKER_CHOICES } from '../registry/steps/migrate.js';
import { ChildTables } from './ChildTables.js';
import { childLines } from '../state/children.js';

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
  const { run, info, request, isActive, busy, session } = p;
  const [mode, setMode] = useState<Mode>('all');
  // the config's workers until w changes it here
  const [workers, setWorkers] = useState<number>(session.engine.cfg.workers);
  const controlsView = useControls(session, isActive);
  const running = run?.status === 'running';

  useInput(
    (input, key) => {
      if (p.keysReach && !p.keysReach()) return;
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
  return <MigrateView {...p} readOnly={session.readOnly} mode={mode} workers={workers} controlsView={controlsView} childKey={session.engine.cfg.key} />;
}

export type MigrateViewProps = Omit<ScreenProps, 'session' | 'request' | 'busy' | 'health'> & {
  readOnly: boolean;
  /** the mode chosen on this screen (the running copy's own while it runs) */
  mode: Mode;
  /** the workers chosen on this screen (w; the config's until then) */
  workers: number;
  controlsView: Pick<ControlsView, 'controls' | 'changedAt' | 'error'>;
  /** the partition key's name, for the referencing tables' back-fill heading */
  childKey: string;
};

/** The migrate screen from plain values: the mode, the controls in force, the bars (no database, no timers). */
export function MigrateView(p: MigrateViewProps) {
  const { run, info, isActive, migration, mode, controlsView, width } = p;
  const color = useTone();
  const programs = run?.programs.length ? run.programs : (p.journalProgress?.programs ?? []);
  const overall: OverallEvent | null = run?.overall ?? p.journalProgress?.overall ?? null;
  const running = run?.status === 'running';
  // the controls in force: this terminal's change until the migration's next read, then the journal's (any terminal's)
  const controls = controlsView.controls && (controlsView.changedAt > Date.parse(migration.readAt) || !migration.controls) ? controlsView.controls : migration.controls;
  const shownMode = running ? ((run?.flags.mode as Mode | undefined) ?? mode) : mode;
  const shownWorkers = running && typeof run?.flags.workers === 'string' ? Number(run.flags.workers) : p.workers;
  const copy = migration.copy;
  const where = copy && !copy.complete && copy.copied > 0
    ? copy.running && !running
      ? `migrate is running in another session (server pid ${migration.running?.pid ?? '?'}): ${copy.percent ?? '?'}% (${n(copy.copied)} rows copied)${copy.paused ? ', paused' : ''}`
      : !running ? `resume at ${copy.percent ?? '?'}% (${n(copy.copied)} rows copied): enter continues from the last committed batch` : null
    : null;
  const controlsText = controls
    ? `${controls.paused ? 'PAUSED' : 'running'} · batch ${n(controls.batchSize)} rows · rate ${controls.maxRate === null ? 'no limit' : `${n(controls.maxRate)} rows/s`}`
    : controlsView.error ? `controls: ${controlsView.error}` : 'controls: -';
  const modeText = `mode: ${MODES.map((m) => `${selectedMark(m === shownMode)}${m} `).join('')} (m) · workers ${shownWorkers} (w) · ${controlsText}`;
  const backlog = overall ? `capture backlog: ${n(overall.backlog)} change(s) to replay` : null;

  const allNote = shownMode === 'all' && programs.length > 1;
  // every line above the bars wraps (nothing is cut): the bars get the rows that are left
  const rowsOf = (text: string | null) => (text ? wrapLines(text, width).length : 0);
  const children = childLines(migration.children, run?.children ?? []);
  const childRows = children.length ? Math.min(children.length + 1, 4) : 0;
  const above = childRows + rowsOf(where) + rowsOf(modeText) + (overall ? 1 + rowsOf(backlog) : rowsOf(MODE_WORDS[mode])) + (allNote ? rowsOf(ALL_MODE_NOTE) : 0) + 1;
  const h = bodyHeight(p) - above;
  const sorted = sortPrograms(programs);
  const win = useWindowedList(sorted.length, listRows(h), { isActive });

  // fixed columns: copied/total 19, % 4, rows/s 9, ETA 8, state 9, six spaces; the label and the bar share the rest
  const rest = Math.max(22, width - 56);
  const barW = Math.max(6, Math.min(40, Math.floor(rest * 0.3)));
  const labelW = Math.max(12, Math.min(48, rest - barW));
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={run} height={p.height} action={p.readOnly ? null : 'enter: migrate (asks y)'}>
      <Box flexDirection="column">
        {where ? <Wrapped text={where} width={width} color={color('accent')} /> : null}
        <Text wrap="wrap">
          mode:{' '}
          {MODES.map((m) => (
            <Text key={m} inverse={m === shownMode}>
              {`${selectedMark(m === shownMode)}${m} `}
            </Text>
          ))}
          <Text color={color('dim')}> (m) · </Text>
          {`workers ${shownWorkers}`}
          <Text color={color('dim')}> (w) · </Text>
          {controls ? (
            <Text>
              <Text color={color(controls.paused ? 'warn' : 'ok')}>{controls.paused ? 'PAUSED' : 'running'}</Text>
              {controlsText.slice(controls.paused ? 'PAUSED'.length : 'running'.length)}
            </Text>
          ) : (
            <Text color={color('dim')}>{controlsText}</Text>
          )}
        </Text>
        {overall ? (
          <>
            <Text wrap="truncate">
              {'overall'.padEnd(labelW)} <ProgressBar ratio={overall.total ? overall.copied / overall.total : 1} width={barW} /> {`${n(overall.copied)}/${n(overall.total)}`.padStart(19)}{' '}
              {pct(overall.copied, overall.total).padStart(4)} {`${n(overall.rowsPerSec)}/s`.padStart(9)} ETA {eta(overall.etaSec)}
            </Text>
            <Wrapped text={backlog ?? ''} width={width} color={color('dim')} />
          </>
        ) : (
          <Wrapped text={MODE_WORDS[mode]} width={width} color={color('dim')} />
        )}
        {allNote ? <Wrapped text={ALL_MODE_NOTE} width={width} color={color('dim')} /> : null}
        <ChildTables lines={children} width={p.width} max={childRows} title={`Back-fill of ${p.childKey} in the referencing tables (after the copy)`} />
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
              {clip(x.label ?? x.program, labelW).padEnd(labelW)} <ProgressBar ratio={x.total ? x.copied / x.total : x.state === 'done' ? 1 : 0} width={barW} tone={TONE[x.state]} />{' '}
              {`${n(x.copied)}/${n(x.total)}`.padStart(19)} {pct(x.copied, x.total).padStart(4)} {`${n(x.rowsPerSec)}`.padStart(9)} {eta(x.etaSec).padStart(8)}{' '}
              <Text color={color(TONE[x.state])}>{x.state}</Text>
            </Text>
          )}
        />
      </Box>
    </StepFrame>
  );
}

/** A label cut to `w` columns, with … when it was longer (the whole label is in the journal and partwise status). */
const clip = (s: string, w: number) => ([...s].length > w ? `${[...s].slice(0, w - 1).join('')}…` : s);
