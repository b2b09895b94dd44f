import type pg from 'pg';
import type { Config } from '../config/config.js';
import { takeSnapshot } from '../catalog/snapshot.js';
import type { LookupRow, PartitionedTableInfo, TableInfo } from '../catalog/types.js';
import { ident, lit, qname } from '../db/quote.js';
import { EXIT } from '../events.js';
import { personError } from '../exec/errors.js';
import { lockedTransaction } from '../exec/retry.js';
import { withTransaction } from '../exec/transaction.js';
import { Journal } from '../journal/journal.js';
import { partitionForKey } from '../plan/planCreate.js';
import { matchProgram } from '../move/programs.js';
import { readMigrationState } from '../state/readState.js';
import { describeMeasure, measurePlan, type ExplainJson, type PlanMeasure } from './explainPlan.js';
import type { StepContext, StepResult } from './context.js';
import { readPartitionedQualified } from './maintain.js';

export interface TestInsertOptions {
  /** a lookup key or label; default: the program with the most rows */
  program?: string;
  rows: number;
  keep: boolean;
}

export interface Comparison {
  form: 'literal' | 'subquery';
  /** the query, with <table> standing for the table measured */
  query: string;
  source: PlanMeasure;
  partitioned: PlanMeasure;
  /** source execution time / partitioned execution time (> 1: the partitioned table is faster) */
  timeRatio: number | null;
  /** source buffers / partitioned buffers (hit + read) */
  buffersRatio: number | null;
  /** what the numbers say, honestly: no verdict on a sample, "the same within noise" for small differences */
  headline: string;
}

export interface TestInsertReport {
  program: LookupRow;
  partition: string;
  /** rows of the program in each table when measured */
  sourceRows: number;
  partitionedRows: number;
  copied: number;
  removed: number;
  kept: boolean;
  /** why nothing was copied, when nothing was */
  copySkipped: string | null;
  comparisons: Comparison[];
  notes: string[];
}

const PARTIAL_NOTE =
  'Timings on a partially filled table say little: the partitioned side holds only a sample of this program, the source ' +
  'all of it. Run partwise test-insert again after the migration, when the new table is full: it then copies nothing and just compares.';

class TestInsertError extends Error {}

/** The two tables compared: before the swap the source and the new table; after it, the old table and the source. */
interface Tables {
  plain: TableInfo;
  plainName: string;
  partitioned: PartitionedTableInfo;
  partitionedName: string;
  swapped: boolean;
}

function chooseProgram(rows: LookupRow[], wanted: string): LookupRow {
  const hit = matchProgram(rows, wanted, (r) => r.key, (r) => r.label);
  if (typeof hit === 'string') throw new TestInsertError(hit);
  return hit;
}

/** The program with the most rows in the source, among those in the lookup table. */
async function largestProgram(client: pg.ClientBase, cfg: Config, plainName: string, rows: LookupRow[]): Promise<LookupRow> {
  const r = await client.query<{ key: string }>(
    `SELECT ${ident(cfg.key)}::text AS key FROM ${plainName} WHERE ${ident(cfg.key)} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC`,
  );
  const known = new Map(rows.map((x) => [x.key, x]));
  for (const x of r.rows) {
    const row = known.get(x.key);
    if (row) return row;
  }
  if (rows[0]) return rows[0];
  throw new TestInsertError(`the lookup table ${cfg.lookupSchema}.${cfg.lookup} has no rows: nothing to compare`);
}

/** Whether the live copy has begun: then the new table is migrate's, and test-insert only compares. */
/** Whether migrate has started filling this copy (the migration's state: a copy created again starts empty). */
async function migrationStarted(client: pg.ClientBase, cfg: Config): Promise<boolean> {
  return (await readMigrationState(client, cfg)).copy !== null;
}

async function countKey(client: pg.ClientBase, cfg: Config, table: string, key: string): Promise<number> {
  const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${ident(cfg.key)} = $1`, [key]);
  return Number(r.rows[0]!.n);
}

/**
 * Copies a sample of the program into the new table: explicit column lists from the catalog, generated columns
 * left out, identity values kept (OVERRIDING SYSTEM VALUE), rows already there skipped. Returns the primary keys
 * of exactly the rows inserted, so that exactly those are removed afterwards.
 */
async function copySample(ctx: StepContext, t: Tables, key: string, rows: number): Promise<Array<Record<string, string>>> {
  const { cfg } = ctx;
  const cols = t.plain.columns.filter((c) => c.generated === '').map((c) => c.name);
  const targetCols = new Set(t.partitioned.columns.filter((c) => c.generated === '').map((c) => c.name));
  const drift = cols.filter((c) => !targetCols.has(c));
  if (drift.length) throw new TestInsertError(`column(s) ${drift.join(', ')} exist on the source only (schema drift): run partwise verify for the fix`);
  const pk = t.partitioned.constraints.find((c) => c.type === 'p')!;
  const list = cols.map(ident).join(', ');
  const overriding = t.partitioned.columns.some((c) => c.identity !== '') ? ' OVERRIDING SYSTEM VALUE' : '';
  // the newest rows when the table has the comparison query's time column, so that the query finds them
  const order = t.plain.columns.some((c) => c.name === 'observed_at') ? ` ORDER BY ${ident('observed_at')} DESC` : '';
  const pkJson = pk.columns.map((c) => `${lit(c)}, ${ident(c)}::text`).join(', ');
  const sql =
    `INSERT INTO ${t.partitionedName} (${list})${overriding} SELECT ${list} FROM ${t.plainName} WHERE ${ident(cfg.key)} = $1${order} LIMIT $2 ` +
    `ON CONFLICT DO NOTHING RETURNING jsonb_build_object(${pkJson}) AS pk`;
  return lockedTransaction(ctx.client, { policy: ctx.retry, emit: ctx.emit, step: 'test-insert', relations: [t.partitionedName] }, async () => {
    const r = await ctx.client.query<{ pk: Record<string, string> }>(sql, [key, rows]);
    return r.rows.map((x) => x.pk);
  });
}

/** Deletes exactly the sample rows, by primary key. */
async function removeSample(ctx: StepContext, t: Tables, pks: Array<Record<string, string>>): Promise<number> {
  const pk = t.partitioned.constraints.find((c) => c.type === 'p')!;
  const types = new Map(t.partitioned.columns.map((c) => [c.name, c.type]));
  const recordCols = pk.columns.map((c) => `${ident(c)} text`).join(', ');
  const match = pk.columns.map((c) => `t.${ident(c)} = x.${ident(c)}::${types.get(c)}`).join(' AND ');
  return lockedTransaction(ctx.client, { policy: ctx.retry, emit: ctx.emit, step: 'test-insert', relations: [t.partitionedName] }, async () => {
    const r = await ctx.client.query(`DELETE FROM ${t.partitionedName} t USING jsonb_to_recordset($1::jsonb) AS x(${recordCols}) WHERE ${match}`, [JSON.stringify(pks)]);
    return r.rowCount ?? 0;
  });
}

/** The first user's comparison query for one program, in the literal and in the seed's subquery form. */
function comparisonQueries(cfg: Config, plain: TableInfo, program: LookupRow, lookupRows: LookupRow[]): Array<{ form: Comparison['form']; sql: (table: string) => string }> {
  const has = (c: string) => plain.columns.some((x) => x.name === c);
  const seedQuery = has('growth_index') && has('observed_at');
  const select = seedQuery ? `count(*), avg(${ident('growth_index')})` : 'count(*)';
  const recent = seedQuery ? ` AND ${ident('observed_at')} > now() - interval '30 days'` : '';
  const lookup = qname(cfg.lookupSchema, cfg.lookup);
  // the seed looks the program up by name; by key when the label is missing or not unique
  const labelUnique = program.label !== null && lookupRows.filter((r) => r.label === program.label).length === 1;
  const find = labelUnique ? `${ident(cfg.lookupLabel)} = ${lit(program.label!)}` : `${ident(cfg.lookupKey)} = ${lit(program.key)}`;
  return [
    { form: 'literal', sql: (t) => `SELECT ${select} FROM ${t} WHERE ${ident(cfg.key)} = ${lit(program.key)}${recent}` },
    { form: 'subquery', sql: (t) => `SELECT ${select} FROM ${t} WHERE ${ident(cfg.key)} = (SELECT ${ident(cfg.lookupKey)} FROM ${lookup} WHERE ${find} LIMIT 1)${recent}` },
  ];
}

async function explain(client: pg.ClientBase, sql: string): Promise<ExplainJson> {
  const r = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`);
  const plan = r.rows[0]['QUERY PLAN'];
  return (typeof plan === 'string' ? JSON.parse(plan) : plan)[0] as ExplainJson;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/**
 * One EXPLAIN ANALYZE run of a query that takes a millisecond or two varies by more than that between runs: a
 * difference under 1 ms, or under a quarter of the slower time, is no difference.
 */
const NOISE_MS = 1;
const NOISE_SHARE = 0.25;

/** The comparison's headline: a ratio only when both sides hold the same rows and the difference is beyond noise. */
export function comparisonHeadline(c: Omit<Comparison, 'headline'>, sameRows: boolean): string {
  const form = c.form === 'literal' ? 'literal key' : 'subquery key';
  const s = c.source.executionMs;
  const p = c.partitioned.executionMs;
  const measured = `${s.toFixed(2)} ms vs ${p.toFixed(2)} ms, ${c.source.sharedHit + c.source.sharedRead} vs ${c.partitioned.sharedHit + c.partitioned.sharedRead} buffers`;
  if (!sameRows) return `${form}: no verdict yet, the partitioned side holds only a sample of the program (source vs partitioned: ${measured})`;
  if (Math.abs(s - p) < NOISE_MS || Math.abs(s - p) < NOISE_SHARE * Math.max(s, p)) return `${form}: the same within noise (source vs partitioned: ${measured})`;
  const faster = s > p;
  const x = faster ? s / p : p / s;
  return `${form}: partitioned ${x.toFixed(1)}x ${faster ? 'faster' : 'slower'} (source vs partitioned: ${measured})`;
}

/**
 * EXPLAIN ANALYZE executes the query: only SELECTs, in a READ ONLY transaction that is rolled back. Each query runs
 * once unmeasured first, so both sides are measured with warm caches.
 */
async function compare(ctx: StepContext, t: Tables, program: LookupRow, lookupRows: LookupRow[]): Promise<Comparison[]> {
  const { client, cfg } = ctx;
  const leafNames = t.partitioned.partitions.map((p) => p.name);
  const out: Comparison[] = [];
  // READ ONLY and rolled back: EXPLAIN ANALYZE executes what it measures
  await withTransaction(client, { readOnly: true, alwaysRollback: true }, async () => {
    for (const q of comparisonQueries(cfg, t.plain, program, lookupRows)) {
      const measured: Record<'source' | 'partitioned', PlanMeasure> = {} as never;
      for (const [side, table, rels] of [['source', t.plainName, [t.plain.name]], ['partitioned', t.partitionedName, leafNames]] as const) {
        await explain(client, q.sql(table));
        measured[side] = measurePlan(await explain(client, q.sql(table)), [...rels]);
      }
      const buffers = (m: PlanMeasure) => m.sharedHit + m.sharedRead;
      out.push({
        form: q.form, query: q.sql('<table>'), source: measured.source, partitioned: measured.partitioned,
        timeRatio: ratio(measured.source.executionMs, measured.partitioned.executionMs),
        buffersRatio: ratio(buffers(measured.source), buffers(measured.partitioned)),
        headline: '',
      });
    }
  });
  return out;
}

async function resolveTables(ctx: StepContext): Promise<{ tables: Tables; lookupRows: LookupRow[]; keyType: string }> {
  const { client, cfg } = ctx;
  const snap = await takeSnapshot(client, cfg);
  if (snap.source?.relkind === 'p' && snap.old) {
    // after the swap: the old table against the partitioned one now under the source's name
    const partitioned = await readPartitionedQualified(client, cfg.schema, cfg.table);
    if (!partitioned) throw new TestInsertError(`${cfg.schema}.${cfg.table} disappeared while reading it`);
    const keyType = partitioned.columns.find((c) => c.name === cfg.key)?.type ?? 'text';
    return {
      tables: { plain: snap.old, plainName: qname(cfg.schema, cfg.oldTable), partitioned, partitionedName: qname(cfg.schema, cfg.table), swapped: true },
      lookupRows: snap.lookupRows, keyType,
    };
  }
  if (!snap.source) throw new TestInsertError(`table ${cfg.schema}.${cfg.table} does not exist`);
  if (!snap.target || snap.target.relkind !== 'p') throw new TestInsertError(`the partitioned table ${cfg.schema}.${cfg.newTable} does not exist yet: run partwise create first`);
  const keyType = snap.source.columns.find((c) => c.name === cfg.key)?.type ?? 'text';
  return {
    tables: { plain: snap.source, plainName: qname(cfg.schema, cfg.table), partitioned: snap.target, partitionedName: qname(cfg.schema, cfg.newTable), swapped: false },
    lookupRows: snap.lookupRows, keyType,
  };
}

/**
 * `partwise test-insert`: copies a sample of one program into the new table, compares the first user's query on
 * both tables with EXPLAIN (ANALYZE, BUFFERS), and removes the sample (unless keep).
 */
export async function runTestInsert(ctx: StepContext, opts: TestInsertOptions): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  let resolved;
  let program: LookupRow;
  try {
    resolved = await resolveTables(ctx);
    const { tables, lookupRows } = resolved;
    program = opts.program !== undefined ? chooseProgram(lookupRows, opts.program) : await largestProgram(client, cfg, tables.plainName, lookupRows);
  } catch (e) {
    if (e instanceof TestInsertError) return { ok: false, exitCode: EXIT.failed, summary: `${e.message}; nothing was changed` };
    throw e;
  }
  const { tables: t, lookupRows, keyType } = resolved;
  const partition = partitionForKey(t.partitioned.partitions, keyType, program.key);
  if (!partition) {
    return { ok: false, exitCode: EXIT.failed, summary: `program ${program.label ?? program.key} has no partition in ${t.partitionedName} yet: run partwise maintain --yes (or create); nothing was changed` };
  }
  const name = program.label ?? program.key;
  const journal = await Journal.open(client, cfg);
  const logId = await journal.start('test-insert', { program: program.key, label: program.label, rows: opts.rows, keep: opts.keep });
  let pks: Array<Record<string, string>> = [];
  let removed = 0;
  let copySkipped: string | null = null;
  try {
    if (t.swapped) copySkipped = 'after the swap the partitioned table holds every row: nothing to copy';
    else if (await migrationStarted(client, cfg)) copySkipped = 'the migration has started: the new table is filled by migrate, test-insert only compares';
    else if (!t.partitioned.constraints.some((c) => c.type === 'p')) copySkipped = `${t.partitionedName} has no primary key, so the sample could not be removed exactly: nothing copied`;
    if (copySkipped === null) {
      emit({ type: 'info', message: `copying up to ${opts.rows} row(s) of ${name} into ${partition.name}` });
      pks = await copySample(ctx, t, program.key, opts.rows);
    } else {
      emit({ type: 'info', message: copySkipped });
    }
    let comparisons: Comparison[];
    let sourceRows: number;
    let partitionedRows: number;
    try {
      sourceRows = await countKey(client, cfg, t.plainName, program.key);
      partitionedRows = await countKey(client, cfg, t.partitionedName, program.key);
      comparisons = await compare(ctx, t, program, lookupRows);
    } finally {
      if (!opts.keep && pks.length) removed = await removeSample(ctx, t, pks);
    }
    for (const c of comparisons) c.headline = comparisonHeadline(c, partitionedRows === sourceRows);
    const notes: string[] = [];
    if (partitionedRows < sourceRows) notes.push(PARTIAL_NOTE);
    else notes.push(`${t.partitionedName} holds all ${sourceRows} row(s) of ${name}: these timings compare like with like.`);
    notes.push('EXPLAIN ANALYZE ran each query twice, read-only; the second run is reported.');
    if (opts.keep && pks.length) {
      notes.push(`The ${pks.length} kept row(s) are copies as of now: if their source rows change before partwise migrate starts capturing changes, ` +
        'the copies go stale (migrate skips rows already there) and partwise verify --data will report them. Without --keep nothing is left behind.');
    }
    const report: TestInsertReport = {
      program, partition: partition.name, sourceRows, partitionedRows, copied: pks.length, removed, kept: opts.keep && pks.length > 0,
      copySkipped, comparisons, notes,
    };
    for (const c of comparisons) {
      emit({ type: 'info', message: `${c.form === 'literal' ? 'literal key' : 'subquery key (pruned at execution)'}: ${c.query}` });
      emit({ type: 'info', message: `  source       ${describeMeasure(c.source)}` });
      emit({ type: 'info', message: `  partitioned  ${describeMeasure(c.partitioned)}` });
      emit({ type: 'info', message: `  ${c.headline}` });
    }
    // each caveat once: here (the screen shows the report's notes), not again in the summary
    for (const n of notes) emit({ type: 'info', message: n });
    await journal.finish(logId, 'done', undefined, { copied: report.copied, removed, kept: report.kept, sourceRows, partitionedRows, comparisons });
    const kept = report.kept ? `${pks.length} sample row(s) kept (--keep)` : pks.length ? `${removed} sample row(s) removed` : 'nothing copied';
    const sub = comparisons.find((c) => c.form === 'subquery')!.partitioned;
    return {
      ok: true, exitCode: EXIT.ok, data: report,
      summary: `test insert of ${name}: ${kept}; subquery form scanned ${sub.scanned.length} of ${sub.partitions} partitions` +
        ` (${sub.neverExecuted.length} never executed)`,
    };
  } catch (e) {
    const err = personError(e, {
      unchanged: pks.length && !removed && !opts.keep ? `${pks.length} sample row(s) may still be in ${t.partitionedName}` : 'no sample row is left in the new table',
      todo: 'fix the cause and run partwise test-insert again',
    });
    await journal.finish(logId, 'failed', err.message, { copied: pks.length, removed });
    emit({ type: 'step.fail', step: 'test-insert', title: `Test insert of ${name}`, error: err });
    return { ok: false, exitCode: EXIT.failed, summary: `test-insert failed: ${err.message}`, data: { error: err } };
  }
}
