/**
 * migrate's first step: change capture, installed before the first row is copied. Capture that was off for a while
 * (or never recorded its install) is installed again, and what the copy missed is copied again.
 */
import type { Snapshot } from '../../catalog/types.js';
import { qname } from '../../db/quote.js';
import { runAnnounced } from '../../exec/runStep.js';
import { captureInstalled, captureIntegrity, captureSetupSteps, resetCopyCheckpoints } from '../../move/capture.js';
import { readCheckpoints } from '../../move/copy.js';
import { readMigrationState } from '../../state/readState.js';
import type { StepContext } from '../context.js';

/** Installs (or re-installs) forward capture. `recopy`: the copy was complete, so after it the differing programs are copied again. */
export async function installCapture(ctx: StepContext, snap: Snapshot, migrationId: number): Promise<{ recopy: boolean }> {
  const { client, cfg, emit } = ctx;
  const installed = await captureInstalled(client, cfg, 'forward');
  const bypassed = installed ? await captureIntegrity(client, cfg, 'forward') : [];
  if (installed && !bypassed.length) return { recopy: false };
  let recopy = false;
  const started = (await readCheckpoints(client, migrationId)).length > 0;
  const complete = (await readMigrationState(client, cfg)).copy?.complete === true;
  if (bypassed.length && complete) {
    // the copy is complete: only the programs whose checksums differ lost writes (compared after the re-install)
    emit({ type: 'warn', message: `${bypassed.join('; ')}: capture is installed again, then every program whose checksum differs is copied again` });
    recopy = true;
  } else if (started) {
    // a copy without capture missed writes: start over
    emit({ type: 'warn', message: `${installed ? bypassed.join('; ') : 'change capture was not installed'} although a copy had started: ${cfg.newTable} is emptied and the copy starts over` });
    await client.query(`TRUNCATE ${qname(cfg.schema, cfg.newTable)}`);
    await resetCopyCheckpoints(client, cfg);
  }
  // two transactions: the log table and function first, then the triggers alone (captureSetupSteps)
  for (const step of captureSetupSteps(snap, cfg)) {
    await runAnnounced(client, step, ctx.retry, emit);
  }
  return { recopy };
}
