/**
 * Every screen from plain props (no database, no timers) at 80x24, 100x30 and 160x48: the frame fits the terminal,
 * every step and footer key is named, and the text that matters (warnings, results, the server, names) is there
 * whole, wrapped rather than cut with "…".
 */
import React from 'react';
import { describe, expect, it } from 'vitest';
import { renderToString } from 'ink';
import { render } from 'ink-testing-library';
import { resolveConfig } from '../../src/config/config.js';
import { CHECKLIST, ROLLBACK_STEP, stepById, type ChecklistId } from '../../src/registry/index.js';
import { migrationState, type MigrationState } from '../../src/state/migrationState.js';
import type { EngineEvent, CheckItem } from '../../src/events.js';
import type { StepRun, ProgressEvent } from '../../src/hooks/runState.js';
import { newRun } from '../../src/hooks/runState.js';
import type { PartitionSizes, PartitionSizeRow } from '../../src/monitor/partitionSizes.js';
import type { TestInsertReport } from '../../src/steps/testInsert.js';
import { AppFrame, type AppFrameProps, type ScreenSlot } from '../../src/screens/AppFrame.js';
import { keysText } from '../../src/screens/HelpOverlay.js';
import type { KeyHint } from '../../src/screens/Footer.js';
import { ColorProvider } from '../../src/screens/Theme.js';
import { MigrateView } from '../../src/screens/Migrate.js';
import { MonitorView } from '../../src/screens/Monitor.js';
import { SCREENS } from '../../src/screens/stepScreens.js';
import type { AppSession } from '../../src/screens/session.js';
import type { ScreenProps } from '../../src/screens/screenProps.js';
import { Checklist } from '../../src/screens/Checklist.js';
import { CheckItems } from '../../src/screens/CheckItems.js';
import { waitUntil } from '../helpers/waitUntil.js';

const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 100, rows: 30 },
  { columns: 160, rows: 48 },
] as const;

const cfg = resolveConfig({});
const at = '2026-11-30T09:00:00.000Z';
const TARGET = '127.0.0.1:54329/partwise_demo as postgres';
const SERVER = `embedded rehearsal database (PostgreSQL 17.10, ${TARGET})`;

/** The state of a migration copying now, from plain facts (src/state is pure). */
function copying(): MigrationState {
  return migrationState({
    table: { schema: cfg.schema, name: cfg.table, newTable: cfg.newTable, oldTable: cfg.oldTable },
    catalog: { source: 'r', target: true, old: false, forwardCapture: true, reverseCapture: false, leftovers: true },
    journal: {
      migrationId: 1, copied: 412_000, scopes: [{ scope: 'all', done: false }], archived: [],
      controls: { paused: false, batchSize: 10_000, maxRate: null, sleepMs: 0, updatedAt: at },
      records: [
        { id: 1, step: 'check', status: 'done', alive: false, pid: 1, startedAt: at, finishedAt: at, error: null, detail: {} },
        { id: 2, step: 'create', status: 'done', alive: false, pid: 1, startedAt: at, finishedAt: at, error: null, detail: {} },
        { id: 3, step: 'migrate', status: 'running', alive: true, pid: 2, startedAt: at, finishedAt: null, error: null, detail: { mode: 'all', total: 1_000_000 } },
      ],
    },
    backlog: 1234, readAt: at,
  });
}

const LABELS = ['Northfield Wheat Rust Survey 2024 (north plots)', 'Coastal Mycology Baseline', 'Greenhouse 4 Spore Surveillance', `O'Brien; trial "B"`,
  'Southern Barley Leaf Blotch', 'Vineyard Powdery Mildew Watch', 'Orchard Scab Index', 'Potato Late Blight Network', 'Rice Blast Sentinel Sites',
  'Maize Tar Spot Tracking', 'Soybean Rust Early Warning', 'Canola Blackleg Transect'];
const uuid = (i: number) => `${(0x56c6bd02 + i * 0x1111).toString(16).padStart(8, '0')}-6920-4d1e-9f7a-0000000000${String(i).padStart(2, '0')}`;

const WARNING: CheckItem = {
  id: 'key-updates', status: 'warn', title: 'Updates that change program_id',
  reason: 'after the swap such an update moves the row to another partition; a concurrent update or delete of the same row then fails with a serialization error (40001) instead of waiting',
  todo: 'make sure the application retries transactions on SQLSTATE 40001 (most drivers and ORMs can), or never changes the key',
};

function doneRun(command: string, patch: Partial<StepRun>): StepRun {
  return { ...newRun(command, {}, 0), status: 'done', finishedAt: 1200, ...patch };
}

const checkRun = doneRun('check', {
  checks: [
    WARNING,
    ...Array.from({ length: 14 }, (_, i): CheckItem => ({ id: `ok${i}`, status: 'ok', title: `Check number ${i + 1}`, reason: 'as expected' })),
  ],
  result: { ok: true, exitCode: 0, summary: 'all prerequisites hold (1 warning)' },
});

const SWAP_WARNING = 'the publication petri_pub lists the old table: its subscribers keep receiving changes under public.petri_observations_old until publish_via_partition_root is set (see partwise check)';
const SWAP_RESULT = 'swapped: public.petri_observations is the partitioned table; public.petri_observations_old keeps receiving every write through reverse capture, so rollback loses nothing';
const swapLog: EngineEvent[] = [
  { type: 'step.start', step: 'swap', title: 'Swap public.petri_observations with public.petri_observations_partitioned', statements: [], locks: [{ mode: 'ACCESS EXCLUSIVE', on: 'public.petri_observations', why: 'the renames' }] },
  { type: 'warn', message: SWAP_WARNING },
  { type: 'step.done', step: 'swap', title: 'Swap', ms: 840 },
];
const swapRun = doneRun('swap', { log: swapLog, result: { ok: true, exitCode: 0, summary: SWAP_RESULT } });

const programs: ProgressEvent[] = LABELS.map((label, i) => ({
  type: 'progress', program: uuid(i), label, total: 100_000 + i * 1000, copied: 40_000 + i * 500, rowsPerSec: i % 3 ? 0 : 12_345, etaSec: i % 3 ? null : 42,
  state: i % 3 === 0 ? 'copying' : i % 3 === 1 ? 'waiting' : 'done',
}));
const migrateRun: StepRun = {
  ...newRun('migrate', { mode: 'all' }, 0), programs,
  overall: { type: 'progress.overall', copied: 412_000, total: 1_000_000, rowsPerSec: 50_000, etaSec: 33, backlog: 1234, paused: false, batchSize: 10_000, maxRate: null, mode: 'all' },
};

const sizeRow = (i: number, label: string | null, isDefault = false): PartitionSizeRow => ({
  oid: 1000 + i, schema: 'public', name: isDefault ? 'petri_obs_default' : `petri_obs_prog_${uuid(i).replace(/-/g, '_')}`,
  bound: isDefault ? 'DEFAULT' : `FOR VALUES IN ('${uuid(i)}')`, isDefault, keyValue: isDefault ? null : uuid(i), label,
  estimatedRows: 40_000 + i, analyzedRows: 30_000, tableBytes: 45_000_000 - i * 1_000_000, indexBytes: 5_000_000, totalBytes: 50_000_000 - i * 1_000_000,
  share: 0.08, lastAnalyze: new Date(at), lastAutoanalyze: null, seqScan: 3, idxScan: 40, hasRows: isDefault ? true : null,
});
const sizes: PartitionSizes = {
  table: 'public.petri_observations_partitioned',
  rows: [...LABELS.map((l, i) => sizeRow(i, l)), sizeRow(12, null, true)],
  totals: { partitions: 13, estimatedRows: 520_000, neverAnalyzed: 0, tableBytes: 500_000_000, indexBytes: 60_000_000, totalBytes: 560_000_000, seqScan: 39, idxScan: 520 },
  defaultHasRows: true, readAt: new Date(at),
};

const report: TestInsertReport = {
  program: { key: uuid(0), label: LABELS[0]! }, partition: sizeRow(0, null).name, sourceRows: 120_000, partitionedRows: 100, copied: 100, removed: 100, kept: false,
  copySkipped: null, notes: ['Timings on a partially filled table say little: the partitioned side holds only a sample of this program, the source all of it. Run partwise test-insert again after the migration, when the new table is full: it then copies nothing and just compares.'],
  comparisons: (['literal', 'subquery'] as const).map((form) => {
    const m = { executionMs: 1.5, planningMs: 0.1, sharedHit: 40, sharedRead: 0, scanned: ['x'], partitions: 13, prunedAtPlan: 12, neverExecuted: [] };
    return { form, query: '', source: m, partitioned: m, timeRatio: 1, buffersRatio: 1, headline: `${form} key: no verdict yet, the partitioned side holds only a sample of the program (source vs partitioned: 12.79 ms vs 0.01 ms, 400 vs 3 buffers)` } as never;
  }),
};
const testInsertRun = doneRun('test-insert', { result: { ok: true, exitCode: 0, summary: 'test insert done', data: report } });

const session = { engine: { cfg }, readOnly: false, server: { target: TARGET, version: '17.10', embedded: true } } as unknown as AppSession;
const health = { ok: true, latencyMs: 3, error: null, checkedAt: 0 };

/** A step's screen from plain props: the screens that read the database take their data as values (MigrateView, MonitorView). */
function screenOf(id: ChecklistId, state: MigrationState, run: StepRun | undefined) {
  return (slot: ScreenSlot) => {
    const info = stepById(id);
    const base = { info, run, view: state.steps[(info.stateOf ?? info.id) as keyof MigrationState['steps']], migration: state, width: slot.width, height: slot.height, isActive: slot.isActive };
    if (id === 'migrate') return <MigrateView {...base} readOnly={false} mode="all" workers={1} controlsView={{ controls: null, changedAt: 0, error: null }} childKey="program_id" />;
    if (id === 'monitor') return <MonitorView {...base} monitor={{ sizes, error: null, refreshing: false, intervalMs: 2000, exact: {} }} sort="name" window={{ cursor: 2, offset: 0 }} />;
    const Screen = SCREENS[id];
    const props: ScreenProps = { ...base, session, health, busy: false, request: () => undefined };
    return <Screen {...props} />;
  };
}

const RUNS: Partial<Record<ChecklistId, StepRun>> = { check: checkRun, migrate: migrateRun, swap: swapRun, 'test-insert': testInsertRun };

function keysFor(id: ChecklistId): KeyHint[] {
  const def = stepById(id);
  return [...(def.keys ?? []).map((k): KeyHint => [keysText(k), k.label]), ['1-7', 'step'], ['tab', 'next'], ['s', 'SQL'], ['R', 'rollback'], ['?', 'help'], ['q', 'quit']];
}

function frameOf(size: { columns: number; rows: number }, id: ChecklistId, extra: Partial<AppFrameProps> = {}): string {
  const state = copying();
  const props: AppFrameProps = {
    columns: size.columns, rows: size.rows,
    status: { target: TARGET, version: '17.10', embedded: true, table: 'public.petri_observations', health, readOnly: false },
    state, current: id, rollbackAvailable: true, keys: keysFor(id), overlay: null, running: null, confirm: null, onCancelConfirm: () => undefined,
    notice: null, sql: null, screen: screenOf(id, state, RUNS[id]), ...extra,
  };
  return renderToString(
    <ColorProvider enabled={false}>
      <AppFrame {...props} />
    </ColorProvider>,
    { columns: size.columns },
  );
}

/**
 * The frame's text with its wrapping undone (one space between words), to find a sentence that wrapped; from 120
 * columns without the checklist's side column (its lines sit beside the screen's).
 */
const flat = (frame: string) =>
  frame
    .split('\n')
    .map((l) => l.replace(/^[^│]{0,22}│/, ''))
    .join('\n')
    .replace(/[│╭╮╰╯─]/g, ' ')
    .replace(/\s+/g, ' ');
const width = (line: string) => [...line].length;

function expectFits(frame: string, size: { columns: number; rows: number }) {
  const lines = frame.split('\n');
  expect(lines.length, frame).toBeLessThanOrEqual(size.rows - 1);
  for (const l of lines) expect(width(l), l).toBeLessThanOrEqual(size.columns);
}

describe.each(SIZES)('every screen at $columns x $rows', (size) => {
  it.each(CHECKLIST.map((s) => s.id as ChecklistId).concat(['rollback']))('%s: fits, names every step and footer key, the server whole', (id) => {
    const frame = frameOf(size, id);
    expectFits(frame, size);
    const lines = frame.split('\n');
    const header = size.columns < 120 ? lines.find((l) => /1.Prereq/.test(l)) ?? '' : frame;
    for (const s of [...CHECKLIST, ROLLBACK_STEP]) {
      const name = size.columns >= 100 ? s.title : (s.short ?? s.title);
      expect(header, `step ${s.title} at ${size.columns}`).toContain(name);
    }
    const footer = flat(lines.slice(-3).join('\n'));
    for (const [k, what] of keysFor(id)) expect(footer, `footer key ${k}`).toContain(`${k} ${what}`);
    expect(flat(frame)).toContain(SERVER);
  });

  it('Prerequisites: the 40001 warning and what to do are whole, and j/G reach the end of the list', () => {
    const frame = flat(frameOf(size, 'check'));
    expect(frame).toContain(`! ${WARNING.title}: ${WARNING.reason}`);
    expect(frame).toContain(`→ ${WARNING.todo}`);
  });

  it('Swap: its warning and result are whole', () => {
    const frame = flat(frameOf(size, 'swap'));
    expect(frame).toContain(`! ${SWAP_WARNING}`);
    expect(frame).toContain(SWAP_RESULT);
  });

  it('Migrate: the backlog whole, labels that grow with the terminal', () => {
    const frame = frameOf(size, 'migrate');
    expect(flat(frame)).toContain('capture backlog: 1,234 change(s) to replay');
    expect(frame).not.toMatch(/backl…/);
    // several programs shown, each with at least 14 columns of its label; from 160 the longest label whole
    const rows = frame.split('\n').filter((l) => /\d\/1\d\d,000 /.test(l) && !l.includes('overall'));
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) expect(LABELS.some((l) => r.includes(l.slice(0, 14))), r).toBe(true);
    if (size.columns >= 160) expect(frame).toContain(LABELS[0]);
  });

  it('Monitor: the program column stays and tells the partitions apart; names grow with the terminal', () => {
    const frame = frameOf(size, 'monitor');
    // every partition row shown names its program (at least 12 columns of the label): rows can be told apart
    const rows = frame.split('\n').filter((l) => l.includes('petri_obs_prog_'));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const r of rows) expect(LABELS.some((l) => r.includes(l.slice(0, 12))), r).toBe(true);
    expect(flat(frame)).toContain('the default partition holds rows');
    if (size.columns >= 160) {
      expect(frame).toContain(sizeRow(0, null).name);
      expect(frame).toContain(LABELS[0]);
    }
  });

  it('Test insert: the headline and the caveat whole, the caveat once', () => {
    const frame = flat(frameOf(size, 'test-insert'));
    expect(frame).toContain('literal key: no verdict yet, the partitioned side holds only a sample of the program');
    expect(frame.split('Timings on a partially filled table say little').length - 1).toBe(1);
  });

  it('the quit dialog, a notice and a confirmation wrap whole', () => {
    const quit = frameOf(size, 'migrate', { overlay: 'quit', running: 'migrate' });
    expectFits(quit, size);
    expect(flat(quit)).toContain('migrate is running. Stop it safely and quit? The current batch commits and the journal records it; the next start resumes.');
    const notice = 'swap refused: the data is not verified since the copy finished: run verify --data (3, then d) first; nothing was changed';
    const n = frameOf(size, 'swap', { notice });
    expectFits(n, size);
    expect(flat(n)).toContain(notice);
    const question = 'Swap public.petri_observations with public.petri_observations_partitioned? Writes wait for a moment while the tables are renamed.';
    const c = frameOf(size, 'swap', { confirm: { question, expect: { typed: 'petri_observations' }, onYes: () => undefined } });
    expectFits(c, size);
    expect(flat(c)).toContain(question);
  });

  it('the help overlay: every description whole, no colliding columns', () => {
    const frame = frameOf(size, 'monitor', { overlay: 'help' });
    expectFits(frame, size);
    expect(frame).not.toMatch(/…/);
    const text = flat(frame);
    // what fits is shown whole; the rest scrolls (the "more" line says so)
    expect(text).toContain('jump to a step');
    expect(text).toContain('quit (asks first while a step runs)');
    if (!/more \(j, PgDn, G\)/.test(text)) for (const what of ['refresh interval (0.5-10 s)', 'exact row count of the selected partition', 'compare the data (counts and checksums per program)']) expect(text).toContain(what);
    // a key and its description are apart: never a key run into the next column's text
    for (const l of frame.split('\n')) expect(l).not.toMatch(/\S{2,}(jump to a step|this help)/);
  });
});

describe.skipIf(!process.env.DUMP_FRAMES)('dump', () => {
  it('writes frames', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync('/tmp/h15b/frames', { recursive: true });
    for (const size of SIZES) {
      for (const id of [...CHECKLIST.map((s) => s.id as ChecklistId), 'rollback' as const]) writeFileSync(`/tmp/h15b/frames/${id}-${size.columns}.txt`, frameOf(size, id));
      writeFileSync(`/tmp/h15b/frames/help-${size.columns}.txt`, frameOf(size, 'monitor', { overlay: 'help' }));
    }
  });
});

describe('a windowed list reaches its last line', () => {
  it('Prerequisites at 100x30: G and j/PgDn show the last item and the "more" line goes away', async () => {
    const items = checkRun.checks;
    for (const keys of [['G'], ['j', 'j', 'j', 'j', 'j', 'j', 'j', 'j', 'j', 'j'], ['\u001b[6~', '\u001b[6~']]) {
      const r = render(<ColorProvider enabled={false}><CheckItems items={items} height={14} width={99} isActive /></ColorProvider>);
      try {
        expect(r.lastFrame()).toMatch(/↓ \d+ more/);
        for (const k of keys) {
          // each key once the list has drawn what the one before did (keys typed ahead may come in one read)
          r.stdin.write(k);
          await new Promise((done) => setImmediate(done));
        }
        const f = await waitUntil(() => {
          const frame = r.lastFrame() ?? '';
          return frame.includes('Check number 14') && !/↓ \d+ more/.test(frame) && frame;
        }, { what: `the last item after ${keys.join(' ')}`, timeoutMs: 10_000, last: () => r.lastFrame() ?? '' });
        expect(f).toMatch(/↑ \d+ more/);
      } finally {
        r.unmount();
      }
    }
  });
});

describe('the header names every step', () => {
  it('from 100 columns all seven titles, at 80 the short forms', () => {
    const state = copying();
    for (const [w, names] of [[99, CHECKLIST.map((s) => s.title)], [79, CHECKLIST.map((s) => s.short ?? s.title)]] as const) {
      const line = renderToString(<ColorProvider enabled={false}><Checklist migration={state} current="migrate" rollbackAvailable compact width={w} /></ColorProvider>, { columns: w + 1 });
      expect(line.split('\n')).toHaveLength(1);
      expect(width(line)).toBeLessThanOrEqual(w);
      for (const n of names) expect(line).toContain(n);
      expect(line).toContain('›5');
    }
  });
});

describe('NO_COLOR: the selection is marked without colors', () => {
  it('the selected migrate mode and the selected monitor row carry ›', () => {
    const before = process.env.NO_COLOR;
    process.env.NO_COLOR = '1';
    try {
      const state = copying();
      const info = stepById('migrate');
      const base = { run: undefined, view: state.steps.migrate, migration: state, width: 99, height: 25, isActive: false };
      const m = render(<ColorProvider enabled={false}><MigrateView {...base} info={info} readOnly={false} mode="gradual" workers={1} controlsView={{ controls: null, changedAt: 0, error: null }} childKey="program_id" /></ColorProvider>);
      const mf = m.lastFrame() ?? '';
      m.unmount();
      expect(mf).not.toMatch(/\u001b\[/);
      expect(mf).toMatch(/mode: +one +all +›gradual/);
      const mon = render(<ColorProvider enabled={false}><MonitorView {...base} view={state.steps.monitor} info={stepById('monitor')} monitor={{ sizes, error: null, refreshing: false, intervalMs: 2000, exact: {} }} sort="name" window={{ cursor: 1, offset: 0 }} /></ColorProvider>);
      const f = mon.lastFrame() ?? '';
      mon.unmount();
      expect(f).not.toMatch(/\u001b\[/);
      const rows = f.split('\n').filter((l) => /petri_obs_/.test(l));
      // sorted by name, the second row is selected: it alone carries the mark
      expect(rows.filter((l) => l.startsWith('›'))).toHaveLength(1);
      expect(rows[1]).toMatch(/^› /);
    } finally {
      if (before === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = before;
    }
  });
});
