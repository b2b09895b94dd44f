import type { Flags } from './args.js';
import { EXIT } from '../events.js';

/** `partwise demo stop`: stops the embedded rehearsal database for every partwise process using it. */
export async function runDemoStop(flags: Flags, io: { out: (line: string) => void; err: (line: string) => void }): Promise<number> {
  const [{ defaultEmbeddedDir }, { stopSharedServer }, { createPrinter }] = await Promise.all([
    import('../db/embedded.js'), import('../db/embeddedShared.js'), import('./printer.js'),
  ]);
  // the printer escapes what it prints (a directory name may hold anything)
  const printer = createPrinter({ json: Boolean(flags.json), color: false, out: io.out });
  const dir = defaultEmbeddedDir();
  try {
    const stopped = await stopSharedServer(dir);
    const summary = stopped
      ? `stopped the embedded rehearsal database in ${dir} (pid ${stopped.pid}, port ${stopped.port}); the next partwise command starts it again on the same port`
      : `the embedded rehearsal database in ${dir} is not running`;
    printer.emit({ type: 'result', command: 'demo', ok: true, exitCode: EXIT.ok, summary });
    return EXIT.ok;
  } catch (e) {
    printer.emit({ type: 'result', command: 'demo', ok: false, exitCode: EXIT.failed, summary: `could not stop the embedded rehearsal database in ${dir}: ${(e as Error).message}` });
    return EXIT.failed;
  }
}
