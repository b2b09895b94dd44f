import { Journal } from '../journal/journal.js';
import { EXIT } from '../events.js';
import { qname } from '../db/quote.js';
import type { StepContext, StepResult } from './context.js';

/** Where the migration stands, from the journal (any terminal sees the same). */
export async function runStatus(ctx: StepContext): Promise<StepResult> {
  const journal = await Journal.find(ctx.client, ctx.cfg);
  if (!journal) {
    return { ok: true, exitCode: EXIT.ok, summary: `nothing started yet for ${ctx.cfg.schema}.${ctx.cfg.table}: run partwise check`, data: { phase: null, steps: [] } };
  }
  const steps = await journal.latest();
  // a step left 'running' by a process that died is interrupted, not running
  const alive = await ctx.client.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'partwise' AND pid <> pg_backend_pid()`);
  const pids = new Set(alive.rows.map((r) => r.pid));
  const withPid = await ctx.client.query<{ step: string; pid: number }>(
    `SELECT DISTINCT ON (step) step, pid FROM partwise.step_log WHERE migration_id = $1 ORDER BY step, id DESC`, [journal.migrationId]);
  const pidOf = new Map(withPid.rows.map((r) => [r.step, r.pid]));
  const view = steps.map((s) => ({ ...s, status: s.status === 'running' && !pids.has(pidOf.get(s.step) ?? -1) ? 'interrupted' : s.status }));
  const phase = await journal.phase();
  const exists = await ctx.client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [qname(ctx.cfg.schema, ctx.cfg.newTable)]);
  return {
    ok: true,
    exitCode: EXIT.ok,
    summary: `phase: ${phase}; ${ctx.cfg.newTable} ${exists.rows[0].ok ? 'exists' : 'does not exist'}`,
    data: { phase, steps: view },
  };
}
