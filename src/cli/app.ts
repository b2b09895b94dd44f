import type { Flags } from './args.js';

/** The Ink checklist app (src/screens/). */
export async function runApp(_flags: Flags, _env: NodeJS.ProcessEnv): Promise<number> {
  process.stderr.write('partwise: the checklist app is not built yet; use the headless commands (partwise --help).\n');
  return 2;
}
