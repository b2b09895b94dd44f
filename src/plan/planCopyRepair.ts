/**
 * What `migrate` does to the copy when the source's structure moved on after `create` (schema drift): columns added,
 * dropped, retyped, NOT NULL and defaults changed, CHECK, UNIQUE and foreign key constraints and indexes added or
 * dropped. Pure: snapshot + config -> statements, in three phases around the back-fill of the columns whose values
 * must be copied again. What cannot be repaired in place is refused with what to do instead.
 */
import type { Column, Constraint, Index, PartitionedTableInfo, TableInfo } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { columnDefinition, ident, qname } from './ddl.js';
import { indexStatement, newIndexName, uniqueConstraintClause, withKey } from './planCreate.js';
import { deferrable } from './deferIndexes.js';

export interface CopyRepairStep {
  id: string;
  /** what differs, said for people */
  title: string;
  statements: string[];
}

export interface CopyRepair {
  /** before the back-fill: drops, added columns (nullable), types and defaults */
  before: CopyRepairStep[];
  /** columns whose values are copied again from the source (added or retyped) */
  backfill: string[];
  /** after the back-fill: NOT NULL, constraints and indexes, which check the values */
  after: CopyRepairStep[];
  /** differences partwise does not repair in place, each with what to do */
  refused: string[];
  /**
   * what no partitioned table can have (exclusion constraints, unique indexes the key cannot be added to): check fails
   * on them and the swap refuses them (src/plan/carryLimits.ts); the copy is repaired without them
   */
  uncarried: string[];
}

const REBUILD = 'partwise rollback (it removes the copy), then partwise create and partwise migrate';

/** A column as the source defines it, without NOT NULL: added before its values are back-filled. */
const nullable = (c: Column) => columnDefinition({ ...c, notNull: false });

function columnRepair(src: TableInfo, tgt: PartitionedTableInfo, cfg: Config, parent: string, out: CopyRepair): void {
  for (const c of src.columns) {
    const t = tgt.columns.find((x) => x.name === c.name);
    const col = ident(c.name);
    if (!t) {
      if (c.identity) out.refused.push(`identity column ${c.name} was added to ${cfg.table} after create: ${REBUILD}`);
      else {
        out.before.push({ id: `add-column:${c.name}`, title: `column ${c.name} was added to ${cfg.table}`, statements: [`ALTER TABLE ${parent} ADD COLUMN ${nullable(c)}`] });
        if (c.generated === '') out.backfill.push(c.name);
        if (c.notNull) out.after.push({ id: `not-null:${c.name}`, title: `column ${c.name} is NOT NULL`, statements: [`ALTER TABLE ${parent} ALTER COLUMN ${col} SET NOT NULL`] });
      }
      continue;
    }
    if (c.generated !== t.generated || c.generationExpr !== t.generationExpr || c.identity !== t.identity) {
      out.refused.push(`column ${c.name} is ${c.generated ? 'generated' : c.identity ? 'an identity' : 'a plain column'} on ${cfg.table} but not the same on ${cfg.newTable}: ${REBUILD}`);
      continue;
    }
    if (c.type !== t.type || c.collation !== t.collation) {
      if (c.name === cfg.key) out.refused.push(`the key column ${c.name} changed type (${t.type} → ${c.type}): ${REBUILD}`);
      else {
        const collate = c.collation ? ` COLLATE ${c.collation}` : '';
        out.before.push({ id: `type:${c.name}`, title: `column ${c.name} changed type (${t.type} → ${c.type})`, statements: [`ALTER TABLE ${parent} ALTER COLUMN ${col} TYPE ${c.type}${collate} USING ${col}::${c.type}`] });
        if (c.generated === '') out.backfill.push(c.name);
      }
    }
    if (c.identity === '' && c.generated === '' && c.defaultExpr !== t.defaultExpr) {
      const set = c.defaultExpr === null ? 'DROP DEFAULT' : `SET DEFAULT ${c.defaultExpr}`;
      out.before.push({ id: `default:${c.name}`, title: `column ${c.name}'s default changed`, statements: [`ALTER TABLE ${parent} ALTER COLUMN ${col} ${set}`] });
    }
    // the key is NOT NULL on the copy through its primary key
    if (c.name !== cfg.key && c.notNull !== t.notNull) {
      const step = { id: `not-null:${c.name}`, title: `column ${c.name} is ${c.notNull ? '' : 'no longer '}NOT NULL`, statements: [`ALTER TABLE ${parent} ALTER COLUMN ${col} ${c.notNull ? 'SET' : 'DROP'} NOT NULL`] };
      (c.notNull ? out.after : out.before).push(step);
    }
  }
  for (const t of tgt.columns.filter((x) => !src.columns.some((c) => c.name === x.name))) {
    if (t.name === cfg.key) out.refused.push(`the key column ${t.name} is gone from ${cfg.table}: nothing can be partitioned by it`);
    else out.before.push({ id: `drop-column:${t.name}`, title: `column ${t.name} was dropped from ${cfg.table}`, statements: [`ALTER TABLE ${parent} DROP COLUMN ${ident(t.name)}`] });
  }
}

/**
 * The constraint the copy should have for a source constraint (by the name create gives it), whether one it has
 * matches, and the statement that adds it; null for kinds handled elsewhere (primary key, exclusion).
 */
function expectedConstraint(c: Constraint, cfg: Config, parent: string): { name: string; matches: (t: Constraint) => boolean; add: string } | null {
  if (c.type === 'u') {
    const name = newIndexName(cfg.table, cfg.newTable, c.indexName ?? c.name);
    const cols = withKey(c.columns, cfg.key).join(',');
    return { name, matches: (t) => t.type === 'u' && t.columns.join(',') === cols, add: `ALTER TABLE ${parent} ADD ${uniqueConstraintClause(c, cfg.key, name)}` };
  }
  if (c.type === 'c' && !c.noInherit) return { name: c.name, matches: (t) => t.type === 'c' && t.def === c.def, add: `ALTER TABLE ${parent} ADD CONSTRAINT ${ident(c.name)} ${c.def}` };
  if (c.type === 'f') {
    // FKs from a partitioned table cannot be NOT VALID: the copy's is validated
    const def = c.def.replace(/ NOT VALID$/, '');
    return { name: c.name, matches: (t) => t.type === 'f' && t.def.replace(/ NOT VALID$/, '') === def, add: `ALTER TABLE ${parent} ADD CONSTRAINT ${ident(c.name)} ${def}` };
  }
  return null;
}

function constraintRepair(src: TableInfo, tgt: PartitionedTableInfo, cfg: Config, parent: string, out: CopyRepair): void {
  const tgtCons = tgt.constraints.filter((c) => !c.inherited);
  const expected = new Set<string>();
  for (const c of src.constraints.filter((x) => !x.inherited)) {
    if (c.type === 'p') {
      const pk = tgtCons.find((t) => t.type === 'p');
      expected.add(pk?.name ?? '');
      if (pk?.columns.join(',') !== withKey(c.columns, cfg.key).join(',')) out.refused.push(`the primary key of ${cfg.table} changed after create: ${REBUILD}`);
      continue;
    }
    if (c.type === 'x') {
      expected.add(c.name);
      if (!tgtCons.some((t) => t.type === 'x' && t.name === c.name))
        out.uncarried.push(`exclusion constraint ${c.name} of ${cfg.table} cannot exist on the partitioned table (the swap refuses it): partwise check says what to do`);
      continue;
    }
    const want = expectedConstraint(c, cfg, parent);
    if (!want) continue;
    expected.add(want.name);
    const have = tgtCons.find((t) => t.name === want.name);
    // a UNIQUE equal to the primary key that an older create folded into it: the primary key enforces it
    const folded = c.type === 'u' && tgtCons.some((t) => t.type === 'p' && t.columns.join(',') === withKey(c.columns, cfg.key).join(','));
    if ((have && want.matches(have)) || (!have && folded)) continue;
    const drop = have ? [`ALTER TABLE ${parent} DROP CONSTRAINT ${ident(have.name)}`] : [];
    out.after.push({ id: `constraint:${want.name}`, title: `constraint ${c.name} of ${cfg.table} is ${have ? 'different on' : 'missing from'} ${cfg.newTable}`, statements: [...drop, want.add] });
  }
  for (const t of tgtCons.filter((x) => !expected.has(x.name) && x.type !== 'n')) {
    out.before.push({ id: `drop-constraint:${t.name}`, title: `constraint ${t.name} of ${cfg.newTable} is no longer on ${cfg.table}`, statements: [`ALTER TABLE ${parent} DROP CONSTRAINT IF EXISTS ${ident(t.name)}`] });
  }
}

/** Whether the copy's index is what create makes of the source's: the same definition, or the key appended to a unique one. */
function indexMatches(ix: Index, have: Index, key: string): boolean {
  if (have.isUnique !== ix.isUnique) return false;
  if (!ix.isUnique || ix.keyColumns.includes(key)) return have.methodAndColumns === ix.methodAndColumns;
  return !have.hasExpressions && !have.isPartial && have.keyColumns.join(',') === withKey(ix.keyColumns, key).join(',');
}

function indexRepair(src: TableInfo, tgt: PartitionedTableInfo, cfg: Config, parent: string, out: CopyRepair, opts: CopyRepairOptions): void {
  const expected = new Set<string>();
  for (const ix of src.indexes.filter((i) => !i.backsConstraint && i.isValid)) {
    const name = newIndexName(cfg.table, cfg.newTable, ix.name);
    expected.add(name);
    // a non-unique index is built after the copy (src/plan/deferIndexes.ts, src/steps/migrate/buildIndexes.ts): one
    // that differs from the source's is only dropped here
    if (opts.deferIndexes && deferrable(ix, src)) {
      const differing = tgt.indexes.find((t) => t.name === name && !indexMatches(ix, t, cfg.key));
      if (differing) out.before.push({ id: `drop-index:${name}`, title: `index ${ix.name} of ${cfg.table} is different on ${cfg.newTable}: built again after the copy`, statements: [`DROP INDEX ${qname(cfg.schema, name)}`] });
      continue;
    }
    const why: string[] = [];
    const create = indexStatement(ix, parent, name, cfg.key, why);
    if (!create) {
      if (!tgt.indexes.some((t) => t.name === name)) out.uncarried.push(`index ${ix.name} of ${cfg.table}: ${why.join('; ')} (the swap refuses it). Replace it by one that includes ${cfg.key}, or drop it: partwise check says what to do`);
      continue;
    }
    const have = tgt.indexes.find((t) => t.name === name);
    if (have && indexMatches(ix, have, cfg.key)) continue;
    const drop = have ? [`DROP INDEX ${qname(cfg.schema, name)}`] : [];
    out.after.push({ id: `index:${name}`, title: `index ${ix.name} of ${cfg.table} is ${have ? 'different on' : 'missing from'} ${cfg.newTable}`, statements: [...drop, create] });
  }
  for (const t of tgt.indexes.filter((x) => !x.backsConstraint && !expected.has(x.name))) {
    out.before.push({ id: `drop-index:${t.name}`, title: `index ${t.name} of ${cfg.newTable} has no counterpart on ${cfg.table} any more`, statements: [`DROP INDEX IF EXISTS ${qname(cfg.schema, t.name)}`] });
  }
}

export interface CopyRepairOptions {
  /** during migrate --mode all's bulk copy: the copy's non-unique indexes are not created (src/plan/deferIndexes.ts) */
  deferIndexes?: boolean;
}

/** The repair of the copy's parent (partitions follow it). Empty phases when the copy matches the source. */
export function planCopyRepair(src: TableInfo, tgt: PartitionedTableInfo, cfg: Config, opts: CopyRepairOptions = {}): CopyRepair {
  const parent = qname(cfg.schema, cfg.newTable);
  const out: CopyRepair = { before: [], backfill: [], after: [], refused: [], uncarried: [] };
  columnRepair(src, tgt, cfg, parent, out);
  constraintRepair(src, tgt, cfg, parent, out);
  indexRepair(src, tgt, cfg, parent, out, opts);
  return out;
}

/** What a repair would change, one line each (verify --data lists them as differences). */
export function repairSummary(r: CopyRepair): string[] {
  return [...r.before, ...r.after].map((s) => s.title).concat(r.refused);
}
