/**
 * The checklist app rendered by ink-testing-library against a real database (a fresh one per test file), with keys
 * sent through stdin. Colors off, so frames are plain text.
 */
import React from 'react';
import { render } from 'ink-testing-library';
import pg from 'pg';
import { App } from '../../src/screens/App.js';
import { ColorProvider } from '../../src/screens/Theme.js';
import type { AppSession } from '../../src/screens/session.js';
import type { StepId } from '../../src/screens/steps.js';
import { runCommand } from '../../src/cli/commands.js';
import { resolveConfig, type ConfigInput } from '../../src/config/config.js';
import { openSession } from '../../src/db/session.js';
import { seedDemo } from '../../src/demo/seedDemo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

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
  press(...keys: string[]): Promise<void>;
  /** tells the app the terminal changed size (as a real terminal's resize event does) */
  resize(columns: number, rows: number): void;
  /** waits until the last frame satisfies `what` (a substring or a predicate); fails with the frame after `timeoutMs` */
  waitFor(what: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function renderApp(fixture: DatabaseFixture, opts: { initialStep?: StepId; input?: ConfigInput; readOnly?: boolean; runCommand?: AppSession['runCommand'] } = {}): Promise<Harness> {
  const engineClient = await openSession(fixture.db.config);
  const view = await openSession(fixture.db.config);
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
  const ink = render(
    <ColorProvider enabled={false}>
      <App session={session} initialStep={opts.initialStep} onExit={(c) => exits.push(c)} />
    </ColorProvider>,
  );
  const frame = () => ink.lastFrame() ?? '';
  return {
    session, exits, frame,
    frames: () => [...ink.frames],
    resize(columns, rows) {
      Object.defineProperty(ink.stdout, 'columns', { value: columns, configurable: true });
      Object.defineProperty(ink.stdout, 'rows', { value: rows, configurable: true });
      ink.stdout.emit('resize');
    },
    async press(...keys) {
      for (const k of keys) {
        ink.stdin.write(k);
        // let Ink parse the key and React commit before the next one
        await pause(60);
      }
    },
    async waitFor(what, timeoutMs = 60_000) {
      const test = typeof what === 'string' ? (f: string) => f.includes(what) : what instanceof RegExp ? (f: string) => what.test(f) : what;
      const until = Date.now() + timeoutMs;
      for (;;) {
        const f = frame();
        if (test(f)) {
          // the frame is drawn before React's effects subscribe the new screen's keys: let them settle
          await pause(100);
          return f;
        }
        if (Date.now() > until) throw new Error(`timed out waiting for ${String(what)}; last frame:\n${f}`);
        await pause(50);
      }
    },
    async close() {
      ink.unmount();
      await engineClient.end().catch(() => undefined);
      await view.end().catch(() => undefined);
    },
  };
}
