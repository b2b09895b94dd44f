import type { Flags } from './args.js';
import type { AppSession } from '../screens/session.js';
import { UsageError } from './args.js';
import { resolveOptions } from './options.js';
import { takeOverStopSignals } from './signals.js';
import { shown } from '../text/safe.js';

interface AppOptions {
  /** `partwise watch`: the same screens, no action */
  readOnly?: boolean;
}

/**
 * The Ink checklist app (src/screens/): connects like the headless commands (the embedded rehearsal database when no
 * connection is given), opens a second session for the app's own reads, and renders until the user quits.
 * main.ts only calls this on an interactive terminal (stdin and stdout TTYs, TERM not dumb, CI unset).
 */
export async function runApp(flags: Flags, env: NodeJS.ProcessEnv, opts: AppOptions = {}): Promise<number> {
  const colors = !env.NO_COLOR;
  // chalk (inside Ink) reads this when it loads: no escape codes at all under NO_COLOR
  if (!colors) process.env.FORCE_COLOR = '0';
  const { ConfigError } = await import('../config/config.js');
  let resolved;
  try {
    resolved = await resolveOptions(flags);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`partwise: ${shown(e.message)}\n`);
      return 2;
    }
    throw e;
  }
  const { cfg, demo, retry } = resolved;
  const [{ connectForCommand }, { redact }, { ConnectError, openSession, READ_SESSION }] = await Promise.all([
    import('./connectForCommand.js'), import('../db/connect.js'), import('../db/session.js'),
  ]);

  let server = { target: '', version: '', embedded: false };
  let conn;
  try {
    conn = await connectForCommand(flags.url, { statementTimeoutMs: 60_000 }, demo, (e) => {
      if (e.type === 'info') process.stdout.write(`partwise: ${shown(e.message)}\n`);
      if (e.type === 'connected') server = { target: e.target, version: e.version, embedded: e.embedded };
    });
  } catch (e) {
    const hint = e instanceof ConnectError && e.hint ? ` (${e.hint})` : '';
    process.stderr.write(`partwise: ${shown(redact((e as Error).message))}${shown(hint)}; nothing was changed\n`);
    return 1;
  }
  if (conn.poolerProblem) {
    process.stderr.write(`partwise: refusing to run through a transaction-mode pooler (${shown(conn.poolerProblem)}): session SET and advisory locks do not work there. Connect directly or through the session-mode pooler.\n`);
    await conn.close();
    return 1;
  }
  let view;
  try {
    // the app's reads come back by themselves after a lost connection (the shared rehearsal server restarted): the
    // status line says "reconnecting" meanwhile
    const { reconnectingClient } = await import('../db/reconnectingClient.js');
    const config = conn.config;
    view = reconnectingClient(await openSession(config, READ_SESSION), () => openSession(config, READ_SESSION));
  } catch (e) {
    process.stderr.write(`partwise: ${shown(redact((e as Error).message, conn.config))}; nothing was changed\n`);
    await conn.close();
    return 1;
  }

  const [React, { render }, { App }, { ColorProvider }, { runCommand }] = await Promise.all([
    import('react'), import('ink'), import('../screens/App.js'), import('../screens/Theme.js'), import('./commands.js'),
  ]);
  const session = {
    engine: { client: conn.client, connection: conn.config, cfg, retry, poolerProblem: conn.poolerProblem },
    view, server, readOnly: Boolean(opts.readOnly), runCommand, active: { current: null } as AppSession['active'],
  };
  let exitCode = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let signalled = false;
  const onSignal = () => {
    // the first signal stops the running step at a safe point, then exits; a second one closes the connections at once
    if (signalled) {
      void Promise.allSettled([view.end(), conn.close()]).finally(() => process.exit(130));
      return;
    }
    signalled = true;
    const run = session.active.current;
    run?.stop();
    void (run?.done ?? Promise.resolve()).then(() => {
      exitCode = 130;
      done();
    });
  };
  const restoreSignals = takeOverStopSignals(onSignal);
  // after SIGHUP the terminal is gone: drawing fails with EIO until the step has stopped safely; that must not kill
  // the process half-way (the batch in flight commits and is journaled first)
  const terminalGone = () => undefined;
  process.stdout.on('error', terminalGone);
  process.stdin.on('error', terminalGone);

  const tree = React.createElement(ColorProvider, {
    enabled: colors,
    children: React.createElement(App, {
      session,
      onExit: (code: number) => {
        exitCode = code;
        done();
      },
    }),
  });
  const ink = render(tree, { exitOnCtrlC: false, maxFps: 10, patchConsole: true });
  try {
    await finished;
  } finally {
    ink.unmount();
    restoreSignals();
    // after a hang-up, Ink's last writes fail a moment later: keep swallowing them until the process ends
    if (!signalled) {
      process.stdout.off('error', terminalGone);
      process.stdin.off('error', terminalGone);
    }
    await view.end().catch(() => undefined);
    await conn.close();
  }
  return exitCode;
}
