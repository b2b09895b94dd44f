import type { CheckItem } from '../events.js';
import { EXIT } from '../events.js';
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Snapshot, TableInfo } from '../catalog/types.js';
import { ident, qname } from '../db/quote.js';
import { withTransaction } from '../exec/transaction.js';
import { isSupportedKeyType } from '../plan/listBound.js';
import { uniquenessNotes } from '../plan/planCreate.js';
import type { StepContext, StepResult } from './context.js';
import { archivedPrograms } from '../archive/records.js';
import type { Config } from '../config/config.js';
import { formatBytes } from '../format.js';
import { captureKeyColumns } from '../move/captureNames.js';
import { readLogicalSlots } from '../catalog/logicalSlots.js';
import { publicationItems } from '../plan/publications.js';
import { carryProblems } from '../plan/carryLimits.js';
import { carryWords, childCarry, childProblem, keylessForeignKeys } from '../plan/carryChildren.js';
import { derivedName } from '../config/names.js';
import { readWorkerFacts, workerAdvice } from './checkWorkers.js';

/**
 * A BEFORE row trigger whose function assigns the key cannot work on a partitioned table
 * (docs/behaviours/before-trigger-cannot-move-a-row.md).
 */
export function triggerAssignsKey(functionSource: string, key: string): boolean {
  const quoted = `"${key.replace(/"/g, '""')}"`;
  const name = key === key.toLowerCase() && /^[a-z_][a-z0-9_]*$/.test(key) ? `(?:${escapeRe(quoted)}|${escapeRe(key)})` : escapeRe(quoted);
  // an assignment is a statement: it follows a statement boundary (`IF NEW.k = 1 THEN` is a comparison)
  const start = String.raw`(?:^|;|\bBEGIN\b|\bTHEN\b|\bELSE\b|\bLOOP\b)\s*`;
  return new RegExp(`${start}NEW\\s*\\.\\s*${name}\\s*:?=(?!=)`, 'i').test(functionSource);
}

/**
 * WAL the copy writes for a table of `tableTotalBytes` (heap, TOAST and indexes): measured at about 1.3x on the demo
 * (563 MB of WAL for a 433 MB table, PostgreSQL 15, full_page_writes on); 1.4x leaves room for full-page images.
 */
export const COPY_WAL_FACTOR = 1.4;

export interface CopyWalAdvice {
  walBytes: number;
  /** WAL between two checkpoints the volume requests: max_wal_size / (1 + checkpoint_completion_target) */
  perCheckpointBytes: number;
  /** checkpoints the copy's WAL alone requests */
  checkpoints: number;
  /** a max_wal_size (whole GB) under which the copy requests at most one */
  suggestedMaxWalSizeGb: number;
}

/** How many checkpoints the copy's WAL requests, and the max_wal_size that spaces them out (pure). */
export function copyWalAdvice(tableTotalBytes: number, maxWalSizeBytes: number, completionTarget: number): CopyWalAdvice {
  const walBytes = tableTotalBytes * COPY_WAL_FACTOR;
  const perCheckpointBytes = maxWalSizeBytes / (1 + completionTarget);
  return {
    walBytes, perCheckpointBytes,
    checkpoints: perCheckpointBytes > 0 ? Math.floor(walBytes / perCheckpointBytes) : 0,
    suggestedMaxWalSizeGb: Math.max(1, Math.ceil((walBytes * (1 + completionTarget)) / 2 ** 30)),
  };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const item = (id: string, status: CheckItem['status'], title: string, reason: string, todo?: string, details?: string[]): CheckItem => ({
  id, status, title, reason, ...(todo ? { todo } : {}), ...(details && details.length ? { details } : {}),
});

/** The structural prerequisites, from the snapshot alone (pure; data checks are added by runCheck). */
export function structuralChecks(snap: Snapshot, cfg: Config): CheckItem[] {
  const items: CheckItem[] = [];
  const s = snap.server;
  items.push(
    s.versionNum >= 130000
      ? item('server-version', 'ok', 'Server version', `PostgreSQL ${s.version}`)
      : item('server-version', 'fail', 'Server version', `PostgreSQL ${s.version} is older than 13`, 'upgrade the server to PostgreSQL 13 or later'),
  );
  const source = snap.source;
  if (!snap.schemaExists) {
    items.push(item('table', 'fail', 'Source table', `schema ${cfg.schema} does not exist`, 'check --schema'));
    return items;
  }
  if (!source) {
    items.push(item('table', 'fail', 'Source table', `table ${cfg.schema}.${cfg.table} does not exist`, 'check --schema and --table'));
  } else if (source.relkind === 'p') {
    items.push(item('table', 'fail', 'Source table', `${cfg.schema}.${cfg.table} is already partitioned`, 'nothing to do, or choose another --table'));
  } else if (source.relkind !== 'r') {
    items.push(item('table', 'fail', 'Source table', `${cfg.schema}.${cfg.table} is not an ordinary table (relkind ${source.relkind})`, 'choose a table'));
  } else {
    items.push(item('table', 'ok', 'Source table', `${cfg.schema}.${cfg.table}: ~${Math.max(0, Math.round(source.reltuples))} rows, ${formatBytes(source.totalBytes)} with indexes`));
  }
  const keyCol = source?.columns.find((c) => c.name === cfg.key);
  if (source && !keyCol) items.push(item('key', 'fail', 'Partition key', `column ${cfg.key} does not exist in ${cfg.schema}.${cfg.table}`, 'check --key'));
  else if (keyCol && !isSupportedKeyType(keyCol.type))
    items.push(item('key', 'fail', 'Partition key', `column ${cfg.key} is of type ${keyCol.type}; partwise supports uuid, text, varchar, integer, bigint, smallint`, 'choose another --key'));
  else if (keyCol) items.push(item('key', 'ok', 'Partition key', `${cfg.key} (${keyCol.type})`));

  const lookup = snap.lookup;
  const lkCol = lookup?.columns.find((c) => c.name === cfg.lookupKey);
  if (!lookup) items.push(item('lookup', 'fail', 'Lookup table', `table ${cfg.lookupSchema}.${cfg.lookup} does not exist`, 'check --lookup'));
  else if (!lkCol) items.push(item('lookup', 'fail', 'Lookup table', `column ${cfg.lookupKey} does not exist in ${cfg.lookupSchema}.${cfg.lookup}`, 'check --lookup-key'));
  else if (keyCol && lkCol.type !== keyCol.type)
    items.push(item('lookup', 'fail', 'Lookup table', `key types differ: ${cfg.table}.${cfg.key} is ${keyCol.type}, ${cfg.lookup}.${cfg.lookupKey} is ${lkCol.type}`, 'choose a lookup key of the same type'));
  else {
    const hasLabel = lookup.columns.some((c) => c.name === cfg.lookupLabel);
    items.push(
      item('lookup', hasLabel ? 'ok' : 'warn', 'Lookup table', `${cfg.lookupSchema}.${cfg.lookup}: ${snap.lookupRows.length} rows, so ${snap.lookupRows.length} partitions plus a default` +
        (hasLabel ? '' : `; label column ${cfg.lookupLabel} not found, keys are shown instead`)),
    );
    if (snap.lookupRows.length > 300)
      items.push(item('partition-count', 'warn', 'Number of partitions', `${snap.lookupRows.length} partitions: unpruned queries plan slower and take a lock per partition (max_locks_per_transaction is ${s.maxLocksPerTransaction})`, 'make sure queries filter by the key'));
  }

  const p = snap.privileges;
  const missing: string[] = [];
  if (p.sourceSelect === false) missing.push(`SELECT on ${cfg.table}`);
  if (p.sourceTrigger === false) missing.push(`TRIGGER on ${cfg.table} (change capture)`);
  if (p.sourceOwnerMember === false) missing.push(`ownership of ${cfg.table} (needed to rename it at the swap)`);
  if (p.schemaCreate === false) missing.push(`CREATE on schema ${cfg.schema}`);
  if (!s.canCreateSchema && !snap.journalExists) missing.push('CREATE on the database (journal schema partwise)');
  if (p.lookupSelect === false) missing.push(`SELECT on ${cfg.lookup}`);
  if (p.lookupTrigger === false && cfg.autoPartitionTrigger) missing.push(`TRIGGER on ${cfg.lookup} (auto partitions)`);
  items.push(missing.length
    ? item('privileges', 'fail', 'Privileges', `role ${s.role} lacks: ${missing.join('; ')}`, `run partwise as the table owner (on Supabase: postgres)`)
    : item('privileges', 'ok', 'Privileges', `role ${s.role}${s.superuser ? ' (superuser)' : ''} has what partwise needs`));

  if (!source || source.relkind !== 'r') return items;
  items.push(...sourceChecks(snap, source, cfg));
  return items;
}

function sourceChecks(snap: Snapshot, source: TableInfo, cfg: Config): CheckItem[] {
  const items: CheckItem[] = [];
  const notes = uniquenessNotes(source, cfg);
  items.push(notes.length
    ? item('uniqueness', 'warn', 'Primary key and unique constraints', `${notes.length} constraint(s) gain ${cfg.key}`, 'update upserts in the application before the swap', notes)
    : item('uniqueness', 'ok', 'Primary key and unique constraints', 'they already contain the key'));

  const captureKey = captureKeyColumns(source);
  items.push(captureKey
    ? item('capture-key', 'ok', 'Row identity for change capture', `rows are identified by (${captureKey.map((c) => c.name).join(', ')})`)
    : item('capture-key', 'fail', 'Row identity for change capture', `${cfg.table} has no PRIMARY KEY and no UNIQUE constraint on NOT NULL columns: change capture cannot tell which row a write changed`,
        `add a primary key (ALTER TABLE ${qname(cfg.schema, cfg.table)} ADD PRIMARY KEY (...)), then run check again`));

  // an incoming FK can follow the table only if it references columns that stay unique: ones that include the key.
  // One that lacks the key is carried: partwise adds the key to the referencing table (src/plan/carryChildren.ts)
  const keyless = keylessForeignKeys(source, cfg);
  const fkCarried = source.foreignKeysIn.filter((f) => f.refColumns.includes(cfg.key));
  items.push(item('foreign-keys-in', 'ok', 'Foreign keys referencing the table',
    fkCarried.length ? `${fkCarried.length} include ${cfg.key}: recreated on the new table at the swap` : keyless.length ? `none that include ${cfg.key}` : 'none',
    undefined, fkCarried.map((f) => `${f.fromSchema}.${f.fromTable}.${f.name}: ${f.def}`)));
  for (const f of keyless) {
    const id = `foreign-key-carry:${f.fromSchema}.${f.fromTable}.${f.name}`;
    const title = `Foreign key ${f.name} from ${f.fromSchema}.${f.fromTable}`;
    const problem = childProblem(f, source, cfg, snap.children.find((c) => c.schema === f.fromSchema && c.table === f.fromTable && c.constraint === f.name));
    if (problem) {
      items.push(item(id, 'fail', title, `it references ${cfg.table} (${f.refColumns.join(', ')}) without ${cfg.key}, and partwise cannot carry it: ${problem.reason}`, problem.todo, [`${f.def}`]));
      continue;
    }
    const words = carryWords(childCarry(f, source, cfg), cfg);
    items.push(item(id, 'warn', title, words.reason, `nothing to do by hand: create, migrate and swap do it (partwise plan shows the SQL); rollback removes it`, words.details));
  }

  // a key-changing UPDATE moves the row to another partition
  // (docs/behaviours/key-update-moves-the-row-concurrent-writers-get-40001.md); a concurrent UPDATE or DELETE of that
  // row then fails with 40001 instead of waiting for it
  items.push(item('key-updates', 'warn', `Updates that change ${cfg.key}`,
    `after the swap such an update moves the row to another partition; a concurrent update or delete of the same row then fails with a serialization error (40001) instead of waiting`,
    'make sure the application retries transactions on SQLSTATE 40001 (most drivers and ORMs can), or never changes the key'));

  const fkOut = source.constraints.filter((c) => c.type === 'f' && !c.inherited);
  if (fkOut.length) items.push(item('foreign-keys-out', 'ok', 'Foreign keys from the table', `${fkOut.length}, added to the new table while it is empty`, undefined, fkOut.map((f) => `${f.name}: ${f.def}`)));

  const carried: string[] = [
    ...source.dependents.map((d) => `${d.kind} ${d.schema}.${d.name}`),
    ...source.policies.map((p) => `policy ${p.name}`),
    ...(source.grants.length ? [`${source.grants.length} grant(s) to ${[...new Set(source.grants.map((g) => g.grantee))].join(', ')}`] : []),
    ...source.publications.map((p) => `publication ${p.name}`),
    ...source.rules.map((r) => `rule ${r.name}`),
    ...(source.rls ? ['row level security (enabled' + (source.rlsForced ? ', forced)' : ')')] : []),
    ...(source.comment !== null ? ['table comment'] : []),
    ...source.sequences.map((q) => `${q.kind} sequence ${q.schema}.${q.name} of ${q.columnName}`),
  ];
  items.push(item('dependents', 'ok', 'Dependent objects', carried.length ? `${carried.length} object(s) partwise carries over` : 'none', undefined, carried));
  if (source.rls && source.policies.length === 0)
    items.push(item('rls', 'warn', 'Row level security', 'RLS is enabled without policies: only the owner and BYPASSRLS roles see rows'));

  const keyAssigners = source.triggers.filter((t) => t.before && t.forEachRow && (t.onInsert || t.onUpdate) && triggerAssignsKey(t.functionSource, cfg.key));
  const others = source.triggers.filter((t) => !keyAssigners.includes(t));
  if (keyAssigners.length)
    items.push(item('triggers-key', 'fail', 'Triggers that set the partition key',
      `BEFORE trigger(s) ${keyAssigners.map((t) => t.name).join(', ')} assign ${cfg.key}; on a partitioned table the row is routed before the trigger runs, so after the swap inserts would fail ("moving row to another partition during a BEFORE FOR EACH ROW trigger is not supported")`,
      `set ${cfg.key} in the application (or a column DEFAULT) instead, drop the trigger, then run check again`,
      keyAssigners.map((t) => t.def)));
  items.push(item('triggers', 'ok', 'Triggers', others.length ? `${others.length} trigger(s), carried over at the swap; they do not fire while partwise copies` : 'none', undefined, others.map((t) => t.def)));

  const carry = carryProblems(source, cfg);
  for (const p of carry) items.push(item(p.id, 'fail', p.title, p.reason, p.todo, p.details));
  if (!carry.some((p) => p.id === 'inheritance')) items.push(item('inheritance', 'ok', 'Inheritance children', 'none'));
  const nullable = nullableKeyCheck(source, cfg);
  items.push(...(nullable ? [nullable] : []), ownerCheck(snap, source, cfg));

  const need = source.totalBytes * 2 + source.tableBytes;
  items.push(item('disk', 'ok', 'Disk and WAL', `the copy needs about ${formatBytes(need)} free (2x table + indexes, plus WAL)`, 'check free space on the server (df) before migrating',
    snap.server.replicationSlots.map((r) => `replication slot ${r.slot}${r.active ? '' : ' (inactive!)'} retains ${formatBytes(r.retained_bytes)} of WAL`)));

  // the copy's WAL requests checkpoints; each ends in a burst of writes and fsyncs, and every page first touched
  // after it is logged whole: that is when the application's commits slow down (issue 5, the benchmark's item 2)
  const wal = copyWalAdvice(source.totalBytes, snap.server.maxWalSizeBytes, snap.server.checkpointCompletionTarget);
  const walReason = `the copy writes about ${formatBytes(wal.walBytes)} of WAL; max_wal_size is ${formatBytes(snap.server.maxWalSizeBytes)}, so a checkpoint is requested every ${formatBytes(wal.perCheckpointBytes)}: about ${wal.checkpoints} during the copy`;
  items.push(wal.checkpoints >= 2
    ? item('wal-checkpoints', 'warn', 'Checkpoints during the copy', `${walReason}. Each ends in a burst of writes and fsyncs and makes the next write of every page log the whole page: the application's commits slow down meanwhile`,
      `for the window, raise max_wal_size to about ${wal.suggestedMaxWalSizeGb}GB (ALTER SYSTEM SET max_wal_size = '${wal.suggestedMaxWalSizeGb}GB'; SELECT pg_reload_conf(); on a managed service, its parameter settings), with that much free disk for WAL; --max-rate spreads the copy between them`)
    : item('wal-checkpoints', 'ok', 'Checkpoints during the copy', walReason));

  const long = snap.sessionsOnSource.filter((b) => (b.xactSeconds ?? 0) > 60);
  items.push(long.length
    ? item('long-transactions', 'warn', 'Long transactions on the table', `${long.length} session(s) hold locks on ${cfg.table} in transactions older than a minute: they would block DDL`, 'wait for them or end them (pg_cancel_backend)', long.map((b) => `pid ${b.pid} ${b.userName ?? ''} ${b.state ?? ''} ${Math.round(b.xactSeconds ?? 0)} s: ${b.query ?? ''}`))
    : item('long-transactions', 'ok', 'Long transactions on the table', 'none'));
  items.push(item('timeouts', 'ok', 'Role timeouts', 'partwise sets its own statement_timeout and lock_timeout per session', undefined,
    snap.server.roleTimeouts.map((r) => `${r.role}: ${r.settings.join(', ')}`)));

  const leftovers: string[] = [];
  if (snap.target) leftovers.push(`${cfg.schema}.${cfg.newTable} exists (${snap.target.partitions.length} partitions): create continues it`);
  if (snap.old) leftovers.push(`${cfg.schema}.${cfg.oldTable} exists: the swap needs this name free`);
  items.push(leftovers.length
    ? item('leftovers', snap.old ? 'fail' : 'warn', 'Leftovers of an earlier run', leftovers.join('; '), snap.old ? `rename or drop ${cfg.oldTable}, or choose --old-table` : 'partwise status shows where it stands')
    : item('leftovers', 'ok', 'Leftovers of an earlier run', 'none'));
  return items;
}

/** A nullable key: what happens to rows written with a NULL key during and after the migration. */
function nullableKeyCheck(source: TableInfo, cfg: Config): CheckItem | null {
  const key = source.columns.find((c) => c.name === cfg.key);
  if (!key) return null; // the 'key' item already fails
  const title = `NOT NULL on ${cfg.key}`;
  if (key.notNull) return item('key-nullable', 'ok', title, `${cfg.key} is NOT NULL`);
  const table = qname(cfg.schema, cfg.table);
  const check = ident(derivedName(cfg.table, `${cfg.key}_not_null`));
  const todo = `make the application always write ${cfg.key}, then, once no row has a NULL ${cfg.key} ("Rows with NULL ${cfg.key}" below), make the column NOT NULL without a long lock: ` +
    `ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${ident(cfg.key)} IS NOT NULL) NOT VALID; ALTER TABLE ${table} VALIDATE CONSTRAINT ${check}; ` +
    `ALTER TABLE ${table} ALTER COLUMN ${ident(cfg.key)} SET NOT NULL; ALTER TABLE ${table} DROP CONSTRAINT ${check}`;
  if (!source.constraints.some((c) => c.type === 'p'))
    return item('key-nullable', 'warn', title, `${cfg.key} accepts NULL: after the swap a row with a NULL ${cfg.key} lands in the default partition`, todo);
  return item('key-nullable', 'warn', title,
    `${cfg.key} accepts NULL. While partwise migrates, a row written with a NULL ${cfg.key} cannot be copied: replay stops at it and the swap refuses until the row has a ${cfg.key}. ` +
      `After the swap ${cfg.key} is NOT NULL (it joins the primary key), so the application's inserts with a NULL ${cfg.key} fail`, todo);
}

/** The owners of the table and its sequences, and whether partwise can give the new table to the same owner. */
function ownerCheck(snap: Snapshot, source: TableInfo, cfg: Config): CheckItem {
  const { role, superuser } = snap.server;
  const details = [`table ${cfg.schema}.${cfg.table}: owner ${source.owner}`, ...source.sequences.map((q) => `${q.kind} sequence ${q.schema}.${q.name} (${q.columnName}): owner ${q.owner}`)];
  if (source.owner === role) return item('owner', 'ok', 'Owner', `${cfg.table} is owned by ${role}, the role partwise runs as: the new table is too`, undefined, details);
  const member = snap.privileges.sourceOwnerMember === true;
  const schemaCreate = snap.privileges.ownerSchemaCreate === true;
  if (superuser || (member && schemaCreate)) {
    return item('owner', 'warn', 'Owner',
      `${cfg.table} is owned by ${source.owner}, partwise runs as ${role}: create gives the new table, each of its partitions (also those made later) and its identity sequences to ${source.owner} (ALTER TABLE ... OWNER TO ${ident(source.owner)}), so ${source.owner} keeps its access after the swap and the serial sequences can follow the table`,
      undefined, details);
  }
  const missing = [
    ...(member ? [] : [`${role} is not a member of ${source.owner} (GRANT ${ident(source.owner)} TO ${ident(role)})`]),
    ...(schemaCreate ? [] : [`${source.owner} lacks CREATE on schema ${cfg.schema} (GRANT CREATE ON SCHEMA ${ident(cfg.schema)} TO ${ident(source.owner)})`]),
  ];
  return item('owner', 'fail', 'Owner',
    `${cfg.table} is owned by ${source.owner}; partwise runs as ${role}, which cannot give the new table to ${source.owner}: ${missing.join('; ')}. After the swap ${source.owner} would lose its access to ${cfg.table}`,
    `run partwise as a superuser or as ${source.owner}, or grant what is missing; then run check again`, details);
}

/** Data checks: NULL keys and keys missing from the lookup table. One scan each, read-only. */
async function dataChecks(ctx: StepContext, snap: Snapshot): Promise<CheckItem[]> {
  const { cfg } = ctx;
  if (!snap.source || snap.source.relkind !== 'r' || !snap.lookup) return [];
  const keyCol = snap.source.columns.find((c) => c.name === cfg.key);
  const lkCol = snap.lookup.columns.find((c) => c.name === cfg.lookupKey);
  if (!keyCol || !lkCol || keyCol.type !== lkCol.type) return [];
  const src = qname(cfg.schema, cfg.table);
  const k = ident(cfg.key);
  const items: CheckItem[] = [];
  // two full scans of a possibly large table: a read-only transaction with a statement_timeout suited to them
  await withTransaction(ctx.client, { readOnly: true, settings: [['statement_timeout', '30min']] }, () => dataScans(ctx, items, src, k));
  return items;
}

async function dataScans(ctx: StepContext, items: CheckItem[], src: string, k: string): Promise<void> {
  const { cfg } = ctx;
  const nulls = Number((await ctx.client.query(`SELECT count(*) AS n FROM ${src} WHERE ${k} IS NULL`)).rows[0].n);
  items.push(nulls
    ? item('null-keys', 'fail', `Rows with NULL ${cfg.key}`, `${nulls} row(s) have no ${cfg.key}; the key becomes NOT NULL through the primary key, so they cannot be copied`, `give them a ${cfg.key} or delete them, then run check again`)
    : item('null-keys', 'ok', `Rows with NULL ${cfg.key}`, 'none'));
  const missing = await ctx.client.query<{ key: string; n: string }>(
    `SELECT s.${k}::text AS key, count(*) AS n FROM ${src} s
      WHERE s.${k} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qname(cfg.lookupSchema, cfg.lookup)} l WHERE l.${ident(cfg.lookupKey)} = s.${k})
      GROUP BY 1 ORDER BY 2 DESC LIMIT 50`,
  );
  const total = missing.rows.reduce((a, r) => a + Number(r.n), 0);
  items.push(missing.rows.length
    ? item('missing-keys', 'warn', `Keys missing from ${cfg.lookup}`, `${total} row(s) in ${missing.rows.length} key(s) have no ${cfg.lookup} row: they go to the default partition`, `add the missing ${cfg.lookup} rows before create to give them partitions, or run partwise maintain later`,
        missing.rows.map((r) => `${r.key}: ${r.n} row(s)`))
    : item('missing-keys', 'ok', `Keys missing from ${cfg.lookup}`, 'none'));
}

export async function runCheck(ctx: StepContext): Promise<StepResult> {
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  const items = [...structuralChecks(snap, ctx.cfg)];
  items.push(ctx.poolerProblem
    ? item('pooler', 'fail', 'Connection mode', `transaction-mode pooler: ${ctx.poolerProblem}; session SET and advisory locks do not work there`, 'connect directly (Supabase: db.<project>.supabase.co:5432) or through the session-mode pooler (port 5432)')
    : item('pooler', 'ok', 'Connection mode', 'a direct or session-mode connection'));
  if (snap.source && snap.source.relkind === 'r') items.push(...publicationItems(snap.source, ctx.cfg, await readLogicalSlots(ctx.client)));
  items.push(...(await dataChecks(ctx, snap)));
  items.push(workerAdvice(await readWorkerFacts(ctx.client), ctx.cfg.workers).item);
  const archived = await archivedPrograms(ctx.client, ctx.cfg);
  if (archived.length) {
    // not a problem: said so that rows of these programs in the default partition surprise nobody
    items.push(item('archived', 'warn', 'Archived programs', `${archived.length} program(s) archived with partwise archive: their lookup rows stay, their new rows go to the default partition (maintain leaves them there)`,
      `partwise restore --from PATH --yes brings a program's partition back with those rows`, archived.map((a) => `${a.label ?? a.program} (${a.program}): ${a.path}`)));
  }
  for (const i of items) ctx.emit({ type: 'check', item: i });
  const fails = items.filter((i) => i.status === 'fail').length;
  const warns = items.filter((i) => i.status === 'warn').length;
  return {
    ok: fails === 0,
    exitCode: fails ? EXIT.checksFailed : EXIT.ok,
    summary: fails ? `${fails} check(s) failed, ${warns} warning(s)` : `all prerequisites met${warns ? `, ${warns} warning(s)` : ''}`,
    data: { items },
  };
}
