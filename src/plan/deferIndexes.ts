/**
 * The copy's secondary indexes are built after the bulk copy rather than kept up to date row by row during it
 * (migrate --mode all): building an index from the finished table sorts once and writes each page once, where the
 * row-by-row inserts dirty random index pages (and their full-page images in the WAL after each checkpoint). Only
 * non-unique indexes that match the source's are deferred: the primary key and the unique indexes stay, since the
 * replay finds rows by them (ON CONFLICT, DELETE by key). After the copy, migrate's final repair of the copy
 * (src/plan/planCopyRepair.ts) creates them with the same statements create used; the swap's gate refuses a copy
 * without them, and verify --data lists them as differences.
 */
import type { Index, Snapshot, TableInfo } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { qname } from './ddl.js';
import { indexStatement, newIndexName } from './planCreate.js';
import type { LockInfo, Step } from './types.js';

export interface DeferredIndex {
  /** the copy's index name */
  name: string;
  /** what builds it again after the copy (the statement create and the copy's repair use) */
  build: string;
}

/**
 * Whether the index's first columns are those of one of the table's own foreign keys: a delete or key change in the
 * referenced table looks for referencing rows through it, inside the application's transaction; without it, that
 * check would scan the copy while it fills. Such an index is not deferred.
 */
export function backsOwnForeignKey(ix: Index, table: TableInfo): boolean {
  return table.constraints.some((c) => c.type === 'f' && c.columns.length > 0 && ix.keyColumns.slice(0, c.columns.length).sort().join(',') === [...c.columns].sort().join(','));
}

/** Whether migrate builds this source index on the copy after the copy rather than keeping it during it. */
export function deferrable(ix: Index, source: TableInfo): boolean {
  return !ix.isUnique && !ix.backsConstraint && ix.isValid && !backsOwnForeignKey(ix, source);
}

/** The source's non-unique indexes (those `keep` accepts), each with its copy's name and create's statement. */
function copyCounterparts(src: TableInfo, cfg: Config, keep: (ix: Index) => boolean): Array<{ ix: Index } & DeferredIndex> {
  const parent = qname(cfg.schema, cfg.newTable);
  return src.indexes.filter((i) => !i.isUnique && !i.backsConstraint && i.isValid && keep(i)).flatMap((ix) => {
    const name = newIndexName(cfg.table, cfg.newTable, ix.name);
    const build = indexStatement(ix, parent, name, cfg.key, []);
    return build ? [{ ix, name, build }] : [];
  });
}

/** The copy's non-unique indexes that match a source index and can be built again from the source's definition. */
export function deferrableIndexes(snap: Snapshot, cfg: Config): DeferredIndex[] {
  const src = snap.source;
  const tgt = snap.target;
  if (!src || !tgt) return [];
  return copyCounterparts(src, cfg, (i) => deferrable(i, src))
    .filter(({ ix, name }) => tgt.indexes.some((t) => t.name === name && !t.isUnique && !t.backsConstraint && t.methodAndColumns === ix.methodAndColumns))
    .map(({ name, build }) => ({ name, build }));
}

export const DEFER_LOCK = (cfg: Config): LockInfo => ({
  mode: 'ACCESS EXCLUSIVE', on: qname(cfg.schema, cfg.newTable), why: 'dropping indexes of the copy (not in use yet); nothing else waits',
});

/** The step that drops them before the bulk copy; null when there is nothing to defer. */
export function deferIndexesStep(snap: Snapshot, cfg: Config): Step | null {
  const list = deferrableIndexes(snap, cfg);
  if (!list.length) return null;
  return {
    id: 'defer-indexes', phase: 'migrate',
    title: `Drop ${list.length} secondary index(es) of ${cfg.newTable} for the bulk copy (built again after it, from the finished table)`,
    statements: list.map((d) => `DROP INDEX ${qname(cfg.schema, d.name)}`),
    locks: [DEFER_LOCK(cfg)], transactional: true, reverse: list.map((d) => d.build), done: false,
    notes: ['the primary key and unique indexes stay: replay finds rows by them'],
  };
}

/**
 * The deferred indexes the copy lacks now, each one step of its own (a killed build keeps the ones finished), without
 * the session's statement_timeout: building an index on a large copy may take longer than any sane timeout.
 */
export function buildIndexSteps(snap: Snapshot, cfg: Config): Step[] {
  const src = snap.source;
  const tgt = snap.target;
  if (!src || !tgt) return [];
  return copyCounterparts(src, cfg, () => true)
    .filter(({ name }) => !tgt.indexes.some((t) => t.name === name))
    .map(({ name, build }) => buildIndexStep(cfg, { name, build }));
}

/** One deferred index built: its own transaction, SHARE on the copy. */
export function buildIndexStep(cfg: Config, d: DeferredIndex): Step {
  const parent = qname(cfg.schema, cfg.newTable);
  return {
    id: `build-index:${d.name}`, phase: 'migrate', title: `Build index ${d.name} of ${cfg.newTable} from the copied rows`,
    statements: [`SET LOCAL statement_timeout = 0`, d.build],
    locks: [{ mode: 'SHARE', on: parent, why: 'building an index of the copy (not in use yet): its replay waits meanwhile, change capture keeps logging' }],
    transactional: true, reverse: [`DROP INDEX ${qname(cfg.schema, d.name)}`], done: false, notes: [],
  };
}
