/**
 * The checklist app rendered by ink-testing-library against a real database (a fresh one per test file), with keys
 * sent through stdin. Colors off, so frames are plain text.
 *
 * No fixed sleeps: React renders a key's update later (Ink gives every update the default priority, so it waits for
 * a scheduler turn), and a screen's keys are subscribed later still, in the effects after that render. Each key is
 * therefore sent inside act(), which returns once React has rendered it and run the effects; and before each key,
 * and after each awaited frame, the harness waits until the effects of the last render (e.g. one caused by a
 * database read) have run, so the key reaches the handlers of the frame on screen. A Profiler counts both.
 */
import React, { act, Profiler } from 'react';
import { render } from 'ink-testing-library';
import pg from 'pg';
import { App } from '../../src/screens/App.js';
import { ColorProvider } from '../../src/screens/Theme.js';
import type { AppSession } from '../../src/screens/session.js';
import type { ChecklistId as StepId } from '../../src/registry/index.js';
import { runCommand } from '../../src/cli/commands.js';
import { resolveConfig, type ConfigInput } from '../../src/config/config.js';
import { openSession } from '../../src/db/session.js';
import { reconnectingClient } from '../../src/db/reconnectingClient.js';
import { seedDemo } from '../../src/demo/seedDemo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { waitUntil } from '../helpers/waitUntil.js';

export const KEY = {
  enter: '\r', tab: '\t', shiftTab: '\u001B[Z', esc: '\u001B', up: '\u001B[A', down: '\u001B[B', pageDown: '\u001B[6~', pageUp: '\u001B[5~', ctrlC: '\u0003',
} as const;

export interface DatabaseFixture {
  db: TestDatabase;
  /** a plain session for arranging and checking the database in tests */
  admin: pg.Client;
  close(): Promise<void>;
}

/** A fresh database with the demo dataset (small). */
export async function demoDatabase(opts: { rows: number; programs: number; prefix?: string }): Promise<DatabaseFixture> {
  const db = await createTestDatabase(opts.prefix ?? 'pw_screens');
  const admin = new pg.Client(db.config);
  admin.on('error', () => undefined);
  await admin.connect();
  await seedDemo(admin, { rows: opts.rows, programs: opts.programs });
  return {
    db, admin,
    async close() {
      await admin.end().catch(() => undefined);
      await db.drop();
    },
  };
}

export interface Harness {
  session: AppSession;
  exits: number[];
  frame(): string;
  /** every frame drawn so far */
  frames(): string[];
  /** sends each key once React has settled, and returns when React has rendered the last one and run its effects */
  press(...keys: string[]): Promise<void>;
  /**
   * sends the keys as separate reads, one right after the other, with no render between them: keys typed ahead of
   * the screen (a fast typist, a slow link); returns when React has rendered them all
   */
  typeAhead(...keys: string[]): Promise<void>;
  /** tells the app the terminal changed size (as a real terminal's resize event does) */
  resize(columns: number, rows: number): Promise<void>;
  /** waits until the last frame satisfies `what` (a substring or a predicate); fails with the frame after `timeoutMs` */
  waitFor(what: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  /** waits until the app has called onExit */
  waitForExit(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

declare global {
  // read by React to tell a test's act() scope from a bare update
  var IS_REACT_ACT_ENVIRONMENT: boolean | undefined;
}

/**
 * Runs `fn` in act(). The act environment flag is on only inside, so updates outside act() (a database read
 * finishing) render as in the real app, without React's "not wrapped in act" warnings.
 */
async function inAct(fn: () => Promise<void> | void): Promise<void> {
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  try {
    await act(async () => {
      await fn();
    });
  } finally {
    globalThis.IS_REACT_ACT_ENVIRONMENT = false;
  }
}

/** Ink delivers a lone escape on the next turn (it may start a longer sequence): wait for that turn inside act(). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export async function renderApp(fixture: DatabaseFixture, opts: { initialStep?: StepId; input?: ConfigInput; readOnly?: boolean; runCommand?: AppSession['runCommand'] } = {}): Promise<Harness> {
  const engineClient = await openSession(fixture.db.config);
  // as in the app (src/cli/app.ts): the view session reconnects by itself
  const view = reconnectingClient(await openSession(fixture.db.config), () => openSession(fixture.db.config));
  const version = (await view.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
  const session: AppSession = {
    engine: {
      client: engineClient, connection: fixture.db.config, cfg: resolveConfig(opts.input ?? {}),
      retry: { lockTimeoutMs: 300, attempts: 2, baseDelayMs: 50, maxDelayMs: 100 }, poolerProblem: null,
    },
    view,
    server: { target: `127.0.0.1/${fixture.db.name}`, version, embedded: false },
    readOnly: Boolean(opts.readOnly),
    runCommand: opts.runCommand ?? runCommand,
    active: { current: null },
  };
  const exits: number[] = [];
  // commits of the app's tree, and those whose effects (key subscriptions among them) have run
  const renders = { committed: 0, effectsRun: 0 };
  const counters = { onPostCommit: () => void renders.effectsRun++ } as object;
  const ink = render(
    <Profiler id="partwise-app" onRender={() => void renders.committed++} {...counters}>
      <ColorProvider enabled={false}>
        <App session={session} initialStep={opts.initialStep} onExit={(c) => exits.push(c)} />
      </ColorProvider>
    </Profiler>,
  );
  const frame = () => ink.lastFrame() ?? '';
  const settled = () =>
    waitUntil(() => renders.effectsRun >= renders.committed, {
      what: `React to run the effects of its last render (${renders.committed} renders, effects of ${renders.effectsRun})`, last: frame, intervalMs: 5,
    });
  return {
    session, exits, frame,
    frames: () => [...ink.frames],
    async resize(columns, rows) {
      await settled();
      await inAct(() => {
        Object.defineProperty(ink.stdout, 'columns', { value: columns, configurable: true });
        Object.defineProperty(ink.stdout, 'rows', { value: rows, configurable: true });
        ink.stdout.emit('resize');
      });
    },
    async press(...keys) {
      for (const k of keys) {
        await settled();
        await inAct(async () => {
          ink.stdin.write(k);
          await nextTurn();
        });
      }
    },
    async typeAhead(...keys) {
      await settled();
      await inAct(async () => {
        for (const k of keys) ink.stdin.write(k);
        await nextTurn();
      });
    },
    async waitFor(what, timeoutMs = 60_000) {
      const test = typeof what === 'string' ? (f: string) => f.includes(what) : what instanceof RegExp ? (f: string) => what.test(f) : what;
      const match = await waitUntil(() => {
        const f = frame();
        return test(f) && { f };
      }, { what: `a frame matching ${String(what)}`, timeoutMs, last: frame });
      await settled();
      return match.f;
    },
    async waitForExit(timeoutMs = 60_000) {
      return waitUntil(() => exits.length > 0 && exits, { what: 'the app to exit', timeoutMs, last: frame }).then((e) => e[0]!);
    },
    async close() {
      ink.unmount();
      await engineClient.end().catch(() => undefined);
      await view.end().catch(() => undefined);
    },
  };
}
