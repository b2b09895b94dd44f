/**
 * migrate's part for the tables whose foreign key into the source lacks the key (src/plan/carryChildren.ts), after
 * the copy: the key column and fill trigger where create did not add them (a foreign key added since), the source's
 * key-following trigger, the back-fill of each child (src/move/childBackfill.ts), then the index on (fk columns, key)
 * CONCURRENTLY where none exists. It runs in migrate because it is long, throttled and resumable like the copy, under
 * the same run lease and live controls, and it must be complete before verify --data and the swap; every part is
 * idempotent, so a killed migrate resumes it.
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Snapshot } from '../catalog/types.js';
import { runAnnounced } from '../exec/runStep.js';
import type { Step } from '../plan/types.js';
import { childCreateStep, childIndexStep, childSyncStep } from '../plan/carryChildren.js';
import { carriedChildren } from '../plan/planCreate.js';
import { backfillChild, emitChild, type BackfillHooks } from '../move/childBackfill.js';
import type { StepContext } from './context.js';

const run = (ctx: StepContext, step: Step): Promise<void> => runAnnounced(ctx.client, step, ctx.retry, ctx.emit);

/** How many children were carried (0 when the source has no such foreign key). Throws what `hooks.between` throws. */
export async function migrateChildren(ctx: StepContext, snap0: Snapshot, migrationId: number, hooks: BackfillHooks): Promise<number> {
  const { cfg, client, emit } = ctx;
  let snap = snap0;
  const carries = carriedChildren(snap, cfg);
  if (!carries.length) return 0;
  const facts = (s: Snapshot, schema: string, table: string) => s.children.find((x) => x.schema === schema && x.table === table);
  for (const c of carries) {
    const f = facts(snap, c.fk.fromSchema, c.fk.fromTable);
    if (!(f?.fillFunction && f.fillTrigger && f.columnExists)) await run(ctx, childCreateStep(c, cfg, f));
  }
  if (carries.some((c) => !facts(snap, c.fk.fromSchema, c.fk.fromTable)?.syncTrigger)) await run(ctx, childSyncStep(carries, cfg));
  for (const c of carries) {
    const cp = await backfillChild(client, cfg, migrationId, c, emit, hooks, snap.server.superuser);
    snap = await takeSnapshot(client, cfg);
    const f = facts(snap, c.fk.fromSchema, c.fk.fromTable);
    if (!f?.covered) {
      emitChild(emit, c, cp, 'indexing');
      // the build reads the whole table, and waits for older transactions, longer than the session's statement_timeout
      // allows a plain statement: lifted for it (an INVALID index left by a timeout would be built again next time)
      const timeout = (await client.query<{ t: string }>(`SELECT current_setting('statement_timeout') AS t`)).rows[0]!.t;
      await client.query(`SELECT set_config('statement_timeout', '0', false)`);
      try {
        await run(ctx, childIndexStep(c, f));
      } finally {
        await client.query(`SELECT set_config('statement_timeout', $1, false)`, [timeout]);
      }
    }
    emitChild(emit, c, cp, 'done');
  }
  return carries.length;
}
