/**
 * Item 4 (screens): one frame of the monitor and of the migrate screen, rendered by Ink's renderToString with the
 * production React build (main.ts sets NODE_ENV before this module loads React). The monitor frame is the monitor
 * screen's body (StepFrame + the partition size table) with real catalog data; the migrate frame is the Migrate
 * screen itself, given a run with one progress bar per program (read-only session: it never queries).
 */
import React from 'react';
import { Writable } from 'node:stream';
import { Box, render, renderToString } from 'ink';
import type { Config } from '../config/config.js';
import type { ProgressEvent, StepRun } from '../hooks/runState.js';
import type { PartitionSizes } from '../monitor/partitionSizes.js';
import { Migrate } from '../screens/Migrate.js';
import { SizeTable } from '../screens/SizeTable.js';
import { StepFrame } from '../screens/StepFrame.js';
import { ColorProvider } from '../screens/Theme.js';
import type { AppSession } from '../screens/session.js';
import { stepById } from '../registry/index.js';
import { migrationState, type MigrationState } from '../state/migrationState.js';
import { median } from '../stats.js';

/** A terminal size: 80x24 is the size partwise must work at (issue 4); larger ones are reported too. */
export interface TermSize {
  width: number;
  height: number;
}

export const STANDARD: TermSize = { width: 80, height: 24 };

/** A terminal that keeps nothing: Ink writes each frame here as it would to a real one. */
class NullTerminal extends Writable {
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  override _write(_chunk: unknown, _enc: BufferEncoding, cb: () => void): void {
    cb();
  }
}

/**
 * A live Ink instance (legacy root, unthrottled): each rerender with new data reconciles, lays out and writes one
 * frame synchronously, which is what an update costs in the running app. The first render (mount) is not timed.
 */
function timeFrames(n: number, size: TermSize, frame: (i: number) => React.ReactElement): { medianMs: number; text: string } {
  const stdout = new NullTerminal(size.width, size.height);
  let text = '';
  stdout.on('data', () => undefined);
  const ink = render(frame(0), { stdout: stdout as unknown as NodeJS.WriteStream, stderr: new NullTerminal(size.width, size.height) as unknown as NodeJS.WriteStream, debug: true, exitOnCtrlC: false, patchConsole: false });
  const times: number[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const t0 = performance.now();
      ink.rerender(frame(i));
      times.push(performance.now() - t0);
    }
    text = renderToString(frame(n), { columns: size.width });
  } finally {
    ink.unmount();
    ink.cleanup();
  }
  return { medianMs: median(times), text };
}

/** The state of a migration copying now (no database: the screens render from it alone). */
function copyingState(cfg: Config, copied: number, total: number): MigrationState {
  const at = new Date().toISOString();
  return migrationState({
    table: { schema: cfg.schema, name: cfg.table, newTable: cfg.newTable, oldTable: cfg.oldTable },
    catalog: { source: 'r', target: true, old: false, forwardCapture: true, reverseCapture: false, leftovers: true },
    journal: {
      migrationId: 1, copied, scopes: [{ scope: 'all', done: false }], archived: [],
      controls: { paused: false, batchSize: 10_000, maxRate: null, sleepMs: 0, updatedAt: at },
      records: [
        { id: 1, step: 'create', status: 'done', alive: false, pid: 1, startedAt: at, finishedAt: at, error: null, detail: {} },
        { id: 2, step: 'migrate', status: 'running', alive: true, pid: 2, startedAt: at, finishedAt: null, error: null, detail: { mode: 'all', total } },
      ],
    },
    backlog: 12, readAt: at,
  });
}

export function monitorFrameMs(sizes: PartitionSizes, n = 20, size: TermSize = STANDARD): { medianMs: number; text: string } {
  const info = stepById('monitor');
  const view = { state: 'done' as const, note: null, record: null };
  return timeFrames(n, size, (i) => (
    <ColorProvider enabled>
      <Box flexDirection="column" width={size.width} height={size.height}>
        <StepFrame info={info} width={size.width} view={view} run={undefined} height={size.height} action={null}>
          <SizeTable sizes={sizes} sort="total size" cursor={i % 30} offset={0} height={size.height - 6} width={size.width} exact={{}} />
        </StepFrame>
      </Box>
    </ColorProvider>
  ));
}

export function migrateFrameMs(cfg: Config, programs: Array<{ key: string; label: string | null; total: number }>, n = 20, size: TermSize = STANDARD): { medianMs: number; text: string } {
  const now = Date.now();
  const total = programs.reduce((s, p) => s + p.total, 0);
  // frame i: the copy has moved on (as after a batch: new progress events, a new run object from the runner)
  const runAt = (i: number): StepRun => ({
    command: 'migrate', flags: { mode: 'all' }, status: 'running', startedAt: now - 60_000, finishedAt: null, log: [], checks: [], transfer: null, children: [],
    programs: programs.map((p, j): ProgressEvent => ({
      type: 'progress', program: p.key, label: p.label, total: p.total, copied: Math.min(p.total, Math.floor((p.total * ((j + i) % 10)) / 10)),
      rowsPerSec: j % 3 === 0 ? 12_345 + i : 0, etaSec: j % 3 === 0 ? 42 : null, state: j % 3 === 0 ? 'copying' : j % 3 === 1 ? 'waiting' : 'done',
    })),
    overall: { type: 'progress.overall', copied: Math.floor(total / 2) + i, total, rowsPerSec: 50_000 + i, etaSec: 60, backlog: 12, paused: false, batchSize: 10_000, maxRate: null, mode: 'all' },
    retry: null, failure: null, result: null, stopping: false,
  });
  // read-only and inactive: no query, no key handling; the screen renders from the run alone
  const session = { engine: { cfg }, readOnly: true } as unknown as AppSession;
  const info = stepById('migrate');
  const migration = copyingState(cfg, Math.floor(total / 2), total);
  const health = { ok: true, latencyMs: 1, error: null, checkedAt: now };
  return timeFrames(n, size, (i) => (
    <ColorProvider enabled>
      <Box flexDirection="column" width={size.width} height={size.height}>
        <Migrate session={session} info={info} run={runAt(i)} view={migration.steps.migrate} migration={migration} health={health} width={size.width} height={size.height} isActive={false} busy request={() => undefined} />
      </Box>
    </ColorProvider>
  ));
}
