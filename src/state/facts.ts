/**
 * What the migration's state is computed from: the catalog (which tables and capture triggers exist) and the journal
 * (every step record, whether its process still lives, the copy's checkpoints, progress and controls). Read in a few
 * small queries, without locks, often (the app re-reads them every refresh, from any terminal).
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import type { StepStatus } from '../journal/journal.js';
import { captureNames } from '../move/captureNames.js';
import { autoPartitionNames } from '../plan/planCreate.js';
import type { ArchivedProgram } from '../archive/records.js';
import { readChildViews, type ChildView } from './children.js';

export interface CatalogFacts {
  /** the table the application uses: 'r' a plain table, 'p' partitioned (after the swap), null missing */
  source: 'r' | 'p' | 'other' | null;
  /** the partitioned copy (cfg.newTable) exists */
  target: boolean;
  /** the renamed original (cfg.oldTable) exists */
  old: boolean;
  /** forward capture's row trigger is on the source (before the swap) */
  forwardCapture: boolean;
  /** reverse capture's row trigger is on the table the application uses (after the swap) */
  reverseCapture: boolean;
  /** something partwise creates is still there (a capture log or function, the auto-partition function) */
  leftovers: boolean;
}

/** One record of partwise.step_log, with whether the process that started it still runs. */
export interface JournalRecord {
  id: number;
  step: string;
  status: StepStatus;
  /** the server session that wrote it is still connected (only looked up for 'running' records) */
  alive: boolean;
  pid: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  /** the small part of the detail the state needs (never the swap's journaled statements) */
  detail: { mode?: string; swapped?: boolean; complete?: boolean; total?: number; interrupted?: boolean };
}

export interface ControlFacts {
  paused: boolean;
  batchSize: number;
  maxRate: number | null;
  sleepMs: number;
  updatedAt: string;
}

export interface JournalFacts {
  migrationId: number;
  /** oldest first */
  records: JournalRecord[];
  controls: ControlFacts | null;
  /** rows the copy recorded as inserted (partwise.copy_progress), all programs */
  copied: number;
  /** copy scopes (partwise.copy_checkpoint) */
  scopes: Array<{ scope: string; done: boolean }>;
  /** programs archived now (partwise.archive, phase archived) */
  archived: ArchivedProgram[];
}

export interface MigrationFacts {
  table: { schema: string; name: string; newTable: string; oldTable: string };
  catalog: CatalogFacts;
  /** null: nothing was ever journaled for this table */
  journal: JournalFacts | null;
  /** captured changes not yet applied to the copy (only when asked for: it counts the log) */
  backlog: number | null;
  /** the tables carried for their foreign key without the key (src/state/children.ts) */
  children?: ChildView[];
  readAt: string;
}

async function readCatalogFacts(client: pg.ClientBase, cfg: Config): Promise<CatalogFacts> {
  const fwd = captureNames(cfg, 'forward');
  const rev = captureNames(cfg, 'reverse');
  const auto = autoPartitionNames(cfg);
  const r = await client.query(
    `SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)) AS source,
            to_regclass($2) IS NOT NULL AS target,
            to_regclass($3) IS NOT NULL AS old,
            EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $4 AND tgfoid = to_regprocedure($5)) AS forward,
            EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $6 AND tgfoid = to_regprocedure($7)) AS reverse,
            to_regclass($8) IS NOT NULL OR to_regprocedure($5) IS NOT NULL OR to_regclass($9) IS NOT NULL
              OR to_regprocedure($7) IS NOT NULL OR to_regprocedure($10) IS NOT NULL AS leftovers`,
    [
      qname(cfg.schema, cfg.table), qname(cfg.schema, cfg.newTable), qname(cfg.schema, cfg.oldTable),
      fwd.rowTrigger, `${fwd.fnQ}()`, rev.rowTrigger, `${rev.fnQ}()`, fwd.logQ, rev.logQ, `partwise.${ident(auto.fn)}()`,
    ],
  );
  const x = r.rows[0];
  const kind = x.source as string | null;
  return {
    source: kind === null ? null : kind === 'r' || kind === 'p' ? kind : 'other',
    target: x.target, old: x.old, forwardCapture: x.forward, reverseCapture: x.reverse, leftovers: x.leftovers,
  };
}

async function readJournalFacts(client: pg.ClientBase, cfg: Config): Promise<JournalFacts | null> {
  const exists = await client.query(`SELECT to_regclass('partwise.migration') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return null;
  const m = await client.query<{ id: string }>(`SELECT id FROM partwise.migration WHERE source_schema = $1 AND source_table = $2`, [cfg.schema, cfg.table]);
  if (!m.rows[0]) return null;
  const id = Number(m.rows[0].id);
  // a record is alive while the session that wrote it is connected (backend_start guards against a reused pid; a
  // role that may not see another's backend_start counts it as alive, as the run lease does)
  const recs = await client.query(
    `SELECT l.id, l.step, l.status, l.pid, l.started_at, l.finished_at, l.error,
            jsonb_build_object('mode', l.detail->'mode', 'swapped', l.detail->'swapped', 'complete', l.detail->'complete',
                               'total', l.detail->'total', 'interrupted', l.detail->'interrupted') AS detail,
            l.status = 'running' AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.pid AND (a.backend_start IS NULL OR a.backend_start <= l.started_at)) AS alive
       FROM partwise.step_log l WHERE l.migration_id = $1 ORDER BY l.id`,
    [id],
  );
  const control = await client.query(`SELECT paused, batch_size, max_rate, sleep_ms, updated_at FROM partwise.control WHERE migration_id = $1`, [id]);
  const copied = await client.query(`SELECT COALESCE(sum(copied), 0)::int8 AS n FROM partwise.copy_progress WHERE migration_id = $1`, [id]);
  const scopes = await client.query(`SELECT scope, done FROM partwise.copy_checkpoint WHERE migration_id = $1 ORDER BY scope`, [id]);
  // a journal an older partwise wrote has no archive table until the next step opens it
  const hasArchive = (await client.query(`SELECT to_regclass('partwise.archive') IS NOT NULL AS ok`)).rows[0].ok as boolean;
  const archived = hasArchive
    ? await client.query<ArchivedProgram>(`SELECT program, label, path FROM partwise.archive WHERE migration_id = $1 AND phase = 'archived' ORDER BY updated_at`, [id])
    : { rows: [] as ArchivedProgram[] };
  const c = control.rows[0];
  return {
    migrationId: id,
    records: recs.rows.map((x) => ({
      id: Number(x.id), step: x.step, status: x.status, pid: x.pid, alive: x.alive,
      startedAt: new Date(x.started_at).toISOString(), finishedAt: x.finished_at ? new Date(x.finished_at).toISOString() : null, error: x.error,
      detail: Object.fromEntries(Object.entries(x.detail as Record<string, unknown>).filter(([, v]) => v !== null)),
    })),
    controls: c ? { paused: c.paused, batchSize: c.batch_size, maxRate: c.max_rate, sleepMs: c.sleep_ms, updatedAt: new Date(c.updated_at).toISOString() } : null,
    copied: Number(copied.rows[0].n),
    scopes: scopes.rows.map((s) => ({ scope: s.scope, done: s.done })),
    archived: archived.rows.map((a) => ({ program: a.program, label: a.label ?? null, path: a.path })),
  };
}

async function readBacklog(client: pg.ClientBase, cfg: Config, catalog: CatalogFacts): Promise<number | null> {
  const direction = catalog.reverseCapture ? 'reverse' : catalog.forwardCapture ? 'forward' : null;
  if (!direction) return null;
  const log = captureNames(cfg, direction).logQ;
  const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [log]);
  if (!exists.rows[0].ok) return null;
  return Number((await client.query(`SELECT count(*)::int8 AS n FROM ${log}`)).rows[0].n);
}

/** Reads everything the state is computed from. Read-only; creates nothing (the journal may not exist yet). */
export async function readMigrationFacts(client: pg.ClientBase, cfg: Config, opts: { backlog?: boolean } = {}): Promise<MigrationFacts> {
  // the journal first: a step that finishes between the two reads then shows as still running, never as done
  // with its result missing from the catalog
  const journal = await readJournalFacts(client, cfg);
  const catalog = await readCatalogFacts(client, cfg);
  return {
    table: { schema: cfg.schema, name: cfg.table, newTable: cfg.newTable, oldTable: cfg.oldTable },
    catalog,
    journal,
    backlog: opts.backlog ? await readBacklog(client, cfg, catalog) : null,
    children: await readChildViews(client, cfg, journal?.migrationId ?? null),
    readAt: new Date().toISOString(),
  };
}
