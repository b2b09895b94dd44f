import type { Flags } from './args.js';

/** `partwise watch`: the checklist app, read-only, following a migration that another terminal runs. */
export async function runWatch(flags: Flags, env: NodeJS.ProcessEnv): Promise<number> {
  const { runApp } = await import('./app.js');
  return runApp(flags, env, { readOnly: true });
}
