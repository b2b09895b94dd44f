import { createInterface } from 'node:readline/promises';
import { readFileSync } from 'node:fs';
import { COMMANDS, parseCommandLine, UsageError, type Command, type Flags } from './args.js';
import { commandHelp, mainHelp } from './help.js';
import { stepByCommand } from '../registry/index.js';
import { shown } from '../text/safe.js';
import { urlProblem } from '../db/urlProblem.js';

/** What a step that stopped half-way (an error, a lost connection) kept and what it left unchanged. */
const UNFINISHED: Partial<Record<string, string>> = {
  default: 'the step did not finish: what it had committed stays, the transaction in flight was rolled back by the server',
  create: 'each create step commits on its own: the steps done are kept (a re-run skips them), the one in flight was rolled back',
  migrate: 'every batch committed before is kept and journaled, the one in flight was rolled back',
  verify: 'verify only reads (verify --data also applies captured changes, each batch committed on its own): nothing else changed',
  swap: 'the swap is one transaction: it committed entirely or not at all (partwise status tells which)',
  rollback: 'the rollback is one transaction: it committed entirely or not at all (partwise status tells which)',
  finish: 'finish is one transaction: it committed entirely or not at all (partwise status tells which)',
};

interface Io {
  argv: string[];
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
}

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** A malformed --url (or DATABASE_URL when no --url is given) as a usage error, before anything tries to connect. */
function connectionUrlProblem(urlFlag: string | undefined, env: NodeJS.ProcessEnv): string | null {
  const [name, url] = urlFlag !== undefined ? ['--url', urlFlag] : ['DATABASE_URL', env.DATABASE_URL];
  if (!url) return null;
  const problem = urlProblem(url);
  return problem ? `${name} is not a valid connection URL: ${problem}` : null;
}

/** Runs one command line; returns the exit code. Everything heavy is imported lazily so --help is instant. */
export async function main(io: Io): Promise<number> {
  let command: Command | null;
  let flags: Flags;
  try {
    ({ command, flags } = parseCommandLine(io.argv));
  } catch (e) {
    const message = shown((e as Error).message);
    io.err(`partwise: ${message}${/--help/.test(message) ? '' : '\nRun partwise --help for usage.'}`);
    return 2;
  }
  if (flags.help || command === 'help') {
    io.out(command && command !== 'help' ? commandHelp(command) : mainHelp());
    return 0;
  }
  if (flags.version) {
    io.out(version());
    return 0;
  }
  if (command === 'demo') {
    const { runDemoStop } = await import('./demo.js');
    return runDemoStop(flags, io);
  }
  const urlIssue = connectionUrlProblem(flags.url, io.env);
  const interactive = io.stdinIsTTY && io.stdoutIsTTY && !io.env.CI && io.env.TERM !== 'dumb';
  if (urlIssue && (command === null || command === 'watch')) {
    io.err(`partwise: ${urlIssue}`);
    return 2;
  }
  if (command === null) {
    if (!interactive) {
      io.err(
        'partwise: the checklist app needs an interactive terminal (stdin and stdout a TTY, TERM not dumb, CI unset).\n' +
          'Use the headless commands instead, e.g. `partwise check`, `partwise plan`, `partwise create --yes`; see partwise --help.',
      );
      return 2;
    }
    const { runApp } = await import('./app.js');
    return runApp(flags, io.env);
  }
  if (command === 'watch') {
    if (!interactive) {
      io.err('partwise: watch needs an interactive terminal (stdin and stdout a TTY, TERM not dumb, CI unset); use `partwise status` instead.');
      return 2;
    }
    const { runWatch } = await import('./watch.js');
    return runWatch(flags, io.env);
  }

  const [{ ConfigError }, { resolveOptions }, { createPrinter }] = await Promise.all([
    import('../config/config.js'),
    import('./options.js'),
    import('./printer.js'),
  ]);
  const color = !io.env.NO_COLOR && io.stdoutIsTTY && io.env.TERM !== 'dumb' && !flags.json;
  const printer = createPrinter({ json: Boolean(flags.json), color, out: io.out, note: command === 'plan' ? io.err : io.out });
  const emit = printer.emit;
  const usage = (message: string) => {
    if (flags.json) emit({ type: 'result', command: command!, ok: false, exitCode: 2, summary: message });
    else io.err(`partwise: ${shown(message)}`);
    return 2;
  };

  if (urlIssue) return usage(urlIssue);

  let cfg;
  let demo;
  let retry;
  try {
    ({ cfg, demo, retry } = await resolveOptions(flags));
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) return usage(e.message);
    throw e;
  }

  const step = stepByCommand(command);
  if (step?.changes && !flags.yes) {
    if (!interactive || flags.json) return usage(`${command} changes the database: pass --yes to run it without a terminal prompt`);
    if (!(await confirm(`${command} will change ${cfg.schema}.${cfg.table}'s database. Run partwise plan to see the SQL. Continue?`))) {
      io.err('partwise: nothing was changed');
      return 1;
    }
  }

  const { connectForCommand } = await import('./connectForCommand.js');
  const { ConnectError } = await import('../db/session.js');
  const { redact } = await import('../db/connect.js');
  let conn;
  try {
    conn = await connectForCommand(flags.url, { statementTimeoutMs: 60_000 }, demo, emit);
  } catch (e) {
    const msg = redact((e as Error).message);
    const hint = e instanceof ConnectError && e.hint ? ` (${e.hint})` : '';
    emit({ type: 'result', command, ok: false, exitCode: 1, summary: `${msg}${hint}; nothing was changed` });
    return 1;
  }
  const closeNow = () => {
    // the server rolls back whatever transaction was open; every step is idempotent on re-run
    void conn.close().finally(() => process.exit(130));
  };
  // long steps stop at a safe point on the first signal (the current batch commits and is journaled);
  // a second signal, or any signal during another command, closes the connection at once
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!step?.stopsSafely || abort.signal.aborted) return closeNow();
    io.err(`partwise: ${sig}: stopping after the current batch commits (again to stop at once)`);
    abort.abort();
  };
  const { takeOverStopSignals } = await import('./signals.js');
  const restoreSignals = takeOverStopSignals(onSignal);
  try {
    const { runCommand } = await import('./commands.js');
    const ctx = { client: conn.client, connection: conn.config, cfg, emit, retry, poolerProblem: conn.poolerProblem, signal: abort.signal };
    if (conn.poolerProblem && command !== 'check') {
      emit({ type: 'result', command, ok: false, exitCode: 1, summary: `refusing to run through a transaction-mode pooler (${conn.poolerProblem}): session SET and advisory locks do not work there. Connect directly or through the session-mode pooler.` });
      return 1;
    }
    const result = await runCommand(command, ctx, flags);
    emit({ type: 'result', command, ...result, summary: redact(result.summary, conn.config) });
    return result.exitCode;
  } catch (e) {
    const { personError } = await import('../exec/errors.js');
    const again = `partwise ${command}${flags.data ? ' --data' : ''}${step?.changes ? ' --yes' : ''}`;
    const err = personError(e, { unchanged: UNFINISHED[command] ?? UNFINISHED.default, todo: `run ${again} again: it continues from what was committed` });
    const summary = `${err.message}${err.serverHint ? ` (hint: ${err.serverHint})` : ''}. ${err.unchanged}; ${err.todo}`;
    emit({ type: 'result', command, ok: false, exitCode: 1, summary: redact(summary, conn.config), data: { error: err } });
    return 1;
  } finally {
    restoreSignals();
    await conn.close();
  }
}

export { COMMANDS };
