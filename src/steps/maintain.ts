import type pg from 'pg';
import type { Config } from '../config/config.js';
import { derivedName } from '../config/names.js';
import { readPartitioned, takeSnapshot } from '../catalog/snapshot.js';
import type { PartitionedTableInfo, Snapshot, TableInfo } from '../catalog/types.js';
import { ident, lit, qname } from '../db/quote.js';
import { EXIT } from '../events.js';
import { personError } from '../exec/errors.js';
import { TransactionFailed } from '../exec/retry.js';
import { runStep } from '../exec/runStep.js';
import { CATALOG_SEARCH_PATH, withTransaction } from '../exec/transaction.js';
import { Journal } from '../journal/journal.js';
import { archivedPrograms } from '../archive/records.js';
import { planCreate, plannedPartitionNames, securityStatements } from '../plan/planCreate.js';
import type { Step } from '../plan/types.js';
import type { StepContext, StepResult } from './context.js';

/** The partitioned table maintain works on, and the snapshot/config the planner needs to describe it. */
export interface MaintainTarget {
  /** the snapshot as the planner sees it: `source` is the template for security, `target` the partitioned table */
  snap: Snapshot;
  /** `newTable` names the partitioned table (the source's own name after the swap) */
  cfg: Config;
  table: PartitionedTableInfo;
  swapped: boolean;
}

/** A partitioned table read with search_path = pg_catalog, as takeSnapshot does, so every printed name is qualified. */
export function readPartitionedQualified(client: pg.ClientBase, schema: string, name: string): Promise<PartitionedTableInfo | null> {
  return withTransaction(client, { isolation: 'repeatable read', readOnly: true, settings: [CATALOG_SEARCH_PATH] }, () => readPartitioned(client, schema, name));
}

/**
 * Before the swap the partitioned table is the new table and the source is the template for RLS, policies and
 * grants. After the swap the source's name is the partitioned table, which carries them itself: it serves as both.
 */
export async function maintainTarget(client: pg.ClientBase, cfg: Config): Promise<MaintainTarget | null> {
  const snap = await takeSnapshot(client, cfg);
  if (snap.source?.relkind === 'p') {
    const table = await readPartitionedQualified(client, cfg.schema, cfg.table);
    if (!table) return null;
    const template: TableInfo = { ...table, relkind: 'r' };
    return { snap: { ...snap, source: template, target: table }, cfg: { ...cfg, newTable: cfg.table }, table, swapped: true };
  }
  if (snap.target?.relkind === 'p') return { snap, cfg, table: snap.target, swapped: false };
  return null;
}

/**
 * The safe move of one key's rows out of the default partition
 * (docs/behaviours/default-partition-blocks-a-new-partition.md), as one step: a standalone table LIKE the parent with
 * a validated CHECK (key = X) and the partitions' RLS, policies and grants, then, under lock_timeout, the default
 * locked, its X rows moved by DELETE ... RETURNING, and the table attached.
 *
 * Why not a validated CHECK (key <> X) on the default: it cannot validate while X's rows are still there, so the
 * rows have to move first anyway. Why not CREATE TABLE ... PARTITION OF: it fails ("would be violated by some row")
 * when the default holds X rows, and it takes ACCESS EXCLUSIVE on the parent (every query waits) where ATTACH takes
 * SHARE UPDATE EXCLUSIVE on the parent (reads and writes of the other partitions go on) and ACCESS EXCLUSIVE only on
 * the default, for as long as moving X's rows and re-checking the default takes. Everything is one transaction:
 * the standalone table is never visible without its security (Supabase's default privileges, facts 24) and a
 * failed attempt leaves nothing behind.
 */
export function moveStep(t: MaintainTarget, key: string, label: string | null, partition: string, defaultPart: { schema: string; name: string }, rows: number): Step {
  const { cfg, snap } = t;
  const source = snap.source!;
  const parent = qname(cfg.schema, cfg.newTable);
  const part = qname(cfg.schema, partition);
  const def = qname(defaultPart.schema, defaultPart.name);
  const check = derivedName(partition, 'partwise_move');
  // generated columns are recomputed by the new table; they cannot be inserted (facts 5). The standalone table has
  // no identity of its own (LIKE without INCLUDING IDENTITY), so identity values are copied as they are.
  const cols = source.columns.filter((c) => c.generated === '').map((c) => ident(c.name)).join(', ');
  // FORCE ROW LEVEL SECURITY would subject the move's INSERT to the policies: forced only once the rows are in
  const security = securityStatements(source, part, snap.defaultAclGrantees, snap.server.role);
  const force = security.filter((s) => s.endsWith(' FORCE ROW LEVEL SECURITY'));
  const keyEq = `${ident(cfg.key)} = ${lit(key)}`;
  return {
    id: `move-default:${key}`,
    phase: 'maintain',
    title: rows > 0
      ? `Partition ${partition} for ${label ?? key}, its ${rows} row(s) moved out of the default partition`
      : `Partition ${partition} for ${label ?? key}, attached beside the non-empty default partition`,
    statements: [
      // exactly the parent's columns (attach requires it), with its defaults, NOT NULL, CHECK and generated columns
      `CREATE TABLE ${part} (LIKE ${parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE${snap.server.versionNum >= 140000 ? ' INCLUDING COMPRESSION' : ''})`,
      // proves the partition constraint, so ATTACH does not scan the new table
      `ALTER TABLE ${part} ADD CONSTRAINT ${ident(check)} CHECK (${keyEq})`,
      ...security.filter((s) => !force.includes(s)),
      // the parent first, then the default: the order in which queries on the parent take them
      `LOCK TABLE ${parent} IN SHARE UPDATE EXCLUSIVE MODE`,
      `LOCK TABLE ONLY ${def} IN ACCESS EXCLUSIVE MODE`,
      `WITH moved AS (DELETE FROM ONLY ${def} WHERE ${keyEq} RETURNING ${cols}) INSERT INTO ${part} (${cols}) SELECT ${cols} FROM moved`,
      `ALTER TABLE ${parent} ATTACH PARTITION ${part} FOR VALUES IN (${lit(key)})`,
      // the partition constraint now says the same
      `ALTER TABLE ${part} DROP CONSTRAINT ${ident(check)}`,
      ...force,
    ],
    locks: [
      { mode: 'SHARE UPDATE EXCLUSIVE', on: parent, why: 'attaching a partition (reads and writes go on)' },
      { mode: 'ACCESS EXCLUSIVE', on: def, why: `moving ${label ?? key}'s rows out and re-checking it` },
      { mode: 'ACCESS EXCLUSIVE', on: part, why: 'new table, not yet in use' },
    ],
    transactional: true,
    reverse: [
      `ALTER TABLE ${parent} DETACH PARTITION ${part}`,
      `INSERT INTO ${def} (${cols}) SELECT ${cols} FROM ${part}`,
      `DROP TABLE ${part}`,
    ],
    done: false,
    notes: ['The default partition is locked while the rows move: the time grows with the default partition\'s size, not with the table\'s.'],
  };
}

const CHECK_VIOLATION = '23514';

interface DefaultKeyCount {
  key: string;
  rows: number;
}

async function rowsInDefault(client: pg.ClientBase, cfg: Config, def: { schema: string; name: string }): Promise<DefaultKeyCount[]> {
  const r = await client.query<{ key: string | null; n: string }>(
    `SELECT ${ident(cfg.key)}::text AS key, count(*) AS n FROM ONLY ${qname(def.schema, def.name)} GROUP BY 1 ORDER BY 2 DESC`,
  );
  return r.rows.map((x) => ({ key: x.key ?? 'NULL', rows: Number(x.n) }));
}

/**
 * `partwise maintain`: a partition for every lookup row that has none; the rows such keys have in the default
 * partition moved into it without a long lock. Rows of keys missing from the lookup table stay and are reported.
 */
export async function runMaintain(ctx: StepContext): Promise<StepResult> {
  const { client, emit } = ctx;
  const t = await maintainTarget(client, ctx.cfg);
  if (!t) {
    return { ok: false, exitCode: EXIT.failed, summary: `no partitioned table ${ctx.cfg.schema}.${ctx.cfg.newTable} (nor a partitioned ${ctx.cfg.schema}.${ctx.cfg.table}): run partwise create first; nothing was changed` };
  }
  const { cfg, snap } = t;
  const plan = planCreate(snap, cfg);
  // an archived program keeps its lookup row but has no partition on purpose: restore brings it back, not maintain
  const archived = new Map((await archivedPrograms(client, ctx.cfg)).map((a) => [a.program, a]));
  const missing = plan.steps.filter((s) => s.id.startsWith('create-partition:') && !s.done && !archived.has(s.id.slice('create-partition:'.length)));
  const names = plannedPartitionNames(snap, cfg);
  const labels = new Map(snap.lookupRows.map((r) => [r.key, r.label]));
  const defaultPart = t.table.partitions.find((p) => p.isDefault) ?? null;
  const inDefault = defaultPart ? await rowsInDefault(client, cfg, defaultPart) : [];
  const defaultRows = new Map(inDefault.map((d) => [d.key, d.rows]));

  const journal = await Journal.open(client, ctx.cfg);
  const logId = await journal.start('maintain', { missing: missing.length, swapped: t.swapped });
  const created: string[] = [];
  const moved: Array<{ key: string; label: string | null; partition: string; rows: number }> = [];
  for (const step of missing) {
    if (ctx.signal?.aborted) break;
    const key = step.id.slice('create-partition:'.length);
    const label = labels.get(key) ?? null;
    const partition = names.get(key)!;
    // The planner's CREATE TABLE ... PARTITION OF scans the default partition under ACCESS EXCLUSIVE on the parent:
    // instant while the default is empty. Once it holds rows (of this key or strays), ATTACH is used instead: it
    // locks only the default, and the parent in SHARE UPDATE EXCLUSIVE (queries go on) during that scan.
    let run: Step = defaultPart && inDefault.length > 0 ? moveStep(t, key, label, partition, defaultPart, defaultRows.get(key) ?? 0) : step;
    emit({ type: 'step.start', step: run.id, title: run.title, statements: run.statements, locks: run.locks });
    const t0 = Date.now();
    try {
      try {
        await runStep(client, run, ctx.retry, emit);
      } catch (e) {
        // a row of this key reached the default since it was read: move it instead
        const f = e instanceof TransactionFailed ? e : undefined;
        if (!defaultPart || run !== step || (f?.cause as { code?: string } | undefined)?.code !== CHECK_VIOLATION) throw e;
        run = moveStep(t, key, label, partition, defaultPart, 1);
        emit({ type: 'info', message: `rows of ${label ?? key} arrived in the default partition meanwhile: moving them instead` });
        emit({ type: 'step.start', step: run.id, title: run.title, statements: run.statements, locks: run.locks });
        await runStep(client, run, ctx.retry, emit);
      }
    } catch (e) {
      const f = e instanceof TransactionFailed ? e : undefined;
      const err = personError(f?.cause ?? e, {
        statement: f?.statement,
        unchanged: `step "${run.title}" was rolled back (its rows are still in the default partition, the application reads them as before); ${created.length} partition(s) before it are in place`,
        todo: f?.blockers.length
          ? `sessions ${f.blockers.map((b) => b.pid).join(', ')} hold locks; wait for them or end them, then run partwise maintain again`
          : 'fix the cause, then run partwise maintain again (it continues where it stopped)',
      });
      if (f?.blockers.length) err.message += ` (blocked by ${f.blockers.map((b) => `pid ${b.pid}: ${b.query ?? ''}`).join('; ')})`;
      emit({ type: 'step.fail', step: run.id, title: run.title, error: err });
      await journal.finish(logId, 'failed', err.message, { failedStep: run.id, created, moved });
      return { ok: false, exitCode: EXIT.failed, summary: `maintain failed at "${run.title}": ${err.message}`, data: { error: err, created, moved } };
    }
    created.push(partition);
    if (run !== step) {
      const n = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${qname(cfg.schema, partition)}`)).rows[0]!.n);
      if (n > 0) {
        moved.push({ key, label, partition, rows: n });
        // a fresh partition with rows: give the planner its statistics now (autovacuum may take a while)
        await client.query(`ANALYZE ${qname(cfg.schema, partition)}`);
      }
    }
    emit({ type: 'step.done', step: run.id, title: run.title, ms: Date.now() - t0 });
  }

  for (const d of inDefault.filter((x) => archived.has(x.key))) {
    const a = archived.get(d.key)!;
    emit({ type: 'info', message: `${d.rows} row(s) of the archived program ${a.label ?? a.program} are in the default partition, as intended: partwise restore --from ${a.path} --yes brings them into its partition again` });
  }
  // what stays in the default: keys that have no lookup row (they cannot get a partition from maintain)
  const lookupKeys = new Set(snap.lookupRows.map((r) => r.key));
  const strays = inDefault.filter((d) => !lookupKeys.has(d.key));
  const strayRows = strays.reduce((a, d) => a + d.rows, 0);
  if (strays.length) {
    emit({
      type: 'warn',
      message: `${strayRows} row(s) of ${strays.length} key(s) missing from ${cfg.lookupSchema}.${cfg.lookup} stay in the default partition: ` +
        strays.slice(0, 10).map((d) => `${d.key} (${d.rows})`).join(', ') + (strays.length > 10 ? ', …' : '') +
        `. Add their lookup rows and run partwise maintain again, or leave them there.`,
    });
  }
  const movedRows = moved.reduce((a, m) => a + m.rows, 0);
  const stopped = ctx.signal?.aborted && created.length < missing.length;
  await journal.finish(logId, 'done', undefined, { created, moved, strays, interrupted: Boolean(stopped) });
  const summary = missing.length === 0 && inDefault.length === 0
    ? 'every lookup row has its partition and the default partition holds no row: nothing to do'
    : `${created.length} partition(s) created, ${movedRows} row(s) moved out of the default partition` +
      (strays.length ? `; ${strayRows} row(s) of keys not in the lookup table stay in the default partition` : '') +
      (stopped ? `; stopped before ${missing.length - created.length} more (run partwise maintain again)` : '');
  return { ok: true, exitCode: EXIT.ok, summary, data: { created, moved, strays, swapped: t.swapped } };
}
