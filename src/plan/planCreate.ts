import type { Config } from '../config/config.js';
import { derivedName, fitIdentifier, partitionName } from '../config/names.js';
import type { Constraint, Index, Partition, Snapshot, TableInfo } from '../catalog/types.js';
import { columnDefinition, commentOnColumn, commentOnTable, createPolicy, grantStatements, ident, lit, qname, revokeDefaults } from './ddl.js';
import { expectedListBound } from './listBound.js';
import { uncarriedUniqueIndex } from './carryLimits.js';
import { childCarry, childCreateStep, childProblem, keylessForeignKeys, type ChildCarry } from './carryChildren.js';
import type { LockInfo, Plan, Step } from './types.js';

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** Where a key value's partition is, found by bound. */
export function partitionForKey(parts: Partition[], keyType: string, keyText: string): Partition | undefined {
  const bound = expectedListBound(keyType, keyText);
  return parts.find((p) => p.bound === bound);
}

export function keyColumn(source: TableInfo, cfg: Config) {
  const col = source.columns.find((c) => c.name === cfg.key);
  if (!col) throw new PlanError(`column ${cfg.key} does not exist in ${cfg.schema}.${cfg.table}`);
  return col;
}

/** Name for an index on the new table: the source's name with the table prefix swapped, kept within 63 bytes. */
export function newIndexName(sourceTable: string, newTable: string, sourceIndex: string): string {
  return fitIdentifier(sourceIndex.startsWith(sourceTable) ? newTable + sourceIndex.slice(sourceTable.length) : `${newTable}_${sourceIndex}`);
}

/**
 * PK / UNIQUE columns on a partitioned table must include the partition key
 * (docs/behaviours/partitioned-uniqueness-limits.md).
 */
export function withKey(columns: string[], key: string): string[] {
  return columns.includes(key) ? columns : [...columns, key];
}

export function uniqueConstraintClause(c: Constraint, key: string, name: string): string {
  const cols = withKey(c.columns, key).map(ident).join(', ');
  const kind = c.type === 'p' ? 'PRIMARY KEY' : c.def.startsWith('UNIQUE NULLS NOT DISTINCT') ? 'UNIQUE NULLS NOT DISTINCT' : 'UNIQUE';
  let sql = `CONSTRAINT ${ident(name)} ${kind} (${cols})`;
  if (c.deferrable) sql += c.deferred ? ' DEFERRABLE INITIALLY DEFERRED' : ' DEFERRABLE';
  return sql;
}

/**
 * The statements that give a table (the parent or one partition), created by `creator`, the source's RLS, policies,
 * owner and grants. The owner changes after the REVOKE of what default privileges handed out (which may name the
 * owner) and before the grants, so that they are recorded as the owner's. ALTER TABLE ... OWNER TO on a partitioned
 * table changes neither its partitions nor those created later (docs/behaviours/owner-not-inherited-by-partitions.md):
 * every partition gets these statements.
 */
export function securityStatements(source: TableInfo, table: string, defaultAclGrantees: string[], creator: string): string[] {
  const out = [`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`];
  if (source.rlsForced) out.push(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  for (const p of source.policies) out.push(createPolicy(p, table));
  out.push(...revokeDefaults(defaultAclGrantees, table));
  if (source.owner !== creator) out.push(ownerStatement(table, source.owner));
  out.push(...grantStatements(source.grants, table));
  return out;
}

/** ALTER TABLE ... OWNER TO; on a table it also gives the table's indexes and owned sequences (identity, serial). */
export function ownerStatement(table: string, owner: string): string {
  return `ALTER TABLE ${table} OWNER TO ${ident(owner)}`;
}

/**
 * Notes for the application: what changes when PK/UNIQUE get the key
 * (docs/behaviours/on-conflict-needs-the-extended-key.md).
 */
export function uniquenessNotes(source: TableInfo, cfg: Config): string[] {
  const notes: string[] = [];
  for (const c of source.constraints.filter((x) => (x.type === 'p' || x.type === 'u') && !x.inherited)) {
    if (c.columns.includes(cfg.key)) continue;
    const cols = c.columns.join(', ');
    notes.push(
      `${c.type === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} (${cols}) becomes (${withKey(c.columns, cfg.key).join(', ')}): ` +
        `${cols} is then unique only within one ${cfg.key}; ON CONFLICT (${cols}) stops working (use ON CONFLICT (${withKey(c.columns, cfg.key).join(', ')})).`,
    );
  }
  for (const ix of source.indexes.filter((i) => i.isUnique && i.isValid && !i.backsConstraint && i.prefixOk && i.plainBtree && !i.keyColumns.includes(cfg.key))) {
    const cols = ix.keyColumns.join(', ');
    notes.push(`unique index ${ix.name} (${cols}) becomes (${withKey(ix.keyColumns, cfg.key).join(', ')}): ${cols} is then unique only within one ${cfg.key}; ON CONFLICT (${cols}) stops working (use ON CONFLICT (${withKey(ix.keyColumns, cfg.key).join(', ')})).`);
  }
  return notes;
}

const SPLIT = '\u0000PARTITION\u0000';

/** A statement template as a plpgsql expression with the partition's quoted name spliced in. */
function plpgsqlTemplate(sql: string, partVar: string): string {
  return sql.split(SPLIT).map(lit).join(` || ${partVar} || `);
}

/**
 * The auto-partition trigger: new lookup rows get a partition at once. SECURITY DEFINER with a fixed search_path
 * and a short lock_timeout; any failure is a WARNING, never an error, so the lookup insert always succeeds
 * (docs/behaviours/creating-a-partition-locks-the-parent.md). Rows of a key without partition land in the default
 * partition; `maintain` moves them.
 */
export function autoPartitionFunction(snap: Snapshot, cfg: Config, fnName: string): string {
  const source = snap.source!;
  const parent = qname(cfg.schema, cfg.newTable);
  const pieces = cfg.partitionName.split('{key}').map(lit).join(' || slug || ');
  const spliced = securityStatements(source, SPLIT, snap.defaultAclGrantees, snap.server.role)
    .map((s) => `      EXECUTE ${plpgsqlTemplate(s, 'part_q')};`)
    .join('\n');
  return `CREATE OR REPLACE FUNCTION partwise.${ident(fnName)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $partwise$
DECLARE
  key_text text := NEW.${ident(cfg.lookupKey)}::text;
  slug text;
  part text;
  part_q text;
BEGIN
  IF key_text IS NULL THEN RETURN NULL; END IF;
  slug := regexp_replace(key_text, '[^A-Za-z0-9]', '_', 'g');
  part := ${pieces};
  IF slug <> key_text AND key_text !~ '^[0-9a-fA-F-]{36}$' THEN
    part := part || '_' || left(encode(sha256(convert_to(key_text, 'UTF8')), 'hex'), 6);
  END IF;
  IF octet_length(part) > 63 THEN
    part := left(part, 52) || '_' || left(encode(sha256(convert_to(part, 'UTF8')), 'hex'), 10);
  END IF;
  part_q := quote_ident(${lit(cfg.schema)}) || '.' || quote_ident(part);
  BEGIN
    EXECUTE 'CREATE TABLE ' || part_q || ' PARTITION OF ' || ${lit(parent)} || ' FOR VALUES IN (' || quote_literal(key_text) || ')';
${spliced}
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'partwise: no partition created for % = %: %. Its rows go to the default partition until "partwise maintain" runs.',
      ${lit(cfg.lookupKey)}, key_text, SQLERRM;
  END;
  RETURN NULL;
END
$partwise$`;
}

export function autoPartitionNames(cfg: Config): { fn: string; trigger: string } {
  return { fn: fitIdentifier(`auto_partition_${cfg.schema}_${cfg.newTable}`), trigger: derivedName('partwise_auto_partition', cfg.newTable) };
}

/** The partition names the plan will use, with collisions reported (they are impossible by construction; checked anyway). */
export function plannedPartitionNames(snap: Snapshot, cfg: Config): Map<string, string> {
  const names = new Map<string, string>();
  const seen = new Map<string, string>();
  for (const row of snap.lookupRows) {
    const name = partitionName(cfg, row.key);
    const other = seen.get(name);
    if (other !== undefined) throw new PlanError(`partition names collide: keys ${other} and ${row.key} both give ${name}`);
    seen.set(name, row.key);
    names.set(row.key, name);
  }
  if (seen.has(cfg.defaultPartition)) throw new PlanError(`the default partition's name ${cfg.defaultPartition} collides with a key's partition`);
  return names;
}

/**
 * snapshot + config -> the ordered steps that create the partitioned copy. Pure: no I/O. Steps whose result the
 * snapshot already shows are marked done, which makes `create` idempotent.
 */
export function planCreate(snap: Snapshot, cfg: Config): Plan {
  const source = snap.source;
  if (!source) throw new PlanError(`table ${cfg.schema}.${cfg.table} does not exist`);
  if (source.relkind === 'p') throw new PlanError(`${cfg.schema}.${cfg.table} is already partitioned`);
  if (!snap.lookup) throw new PlanError(`lookup table ${cfg.lookupSchema}.${cfg.lookup} does not exist`);
  const key = keyColumn(source, cfg);
  const parent = qname(cfg.schema, cfg.newTable);
  const target = snap.target;
  const parts = target?.partitions ?? [];
  const defaultPart = parts.find((p) => p.isDefault);
  const steps: Step[] = [];
  const warnings = uniquenessNotes(source, cfg);

  // 1. The parent with columns, constraints, RLS, policies, grants, comments: one transaction, never exposed.
  const defs: string[] = [];
  // the key becomes NOT NULL through the primary key (docs/behaviours/primary-key-makes-key-not-null.md); check
  // counts NULL keys beforehand
  for (const c of source.columns) defs.push(columnDefinition(c));
  const later: string[] = [];
  const locks: LockInfo[] = [{ mode: 'ACCESS EXCLUSIVE', on: parent, why: 'new table, not yet in use' }];
  for (const c of source.constraints.filter((x) => !x.inherited)) {
    if (c.type === 'p') defs.push(uniqueConstraintClause(c, cfg.key, derivedName(cfg.newTable, 'pkey')));
    // added after CREATE TABLE, which would fold a UNIQUE equal to the (extended) primary key into it and lose its
    // name (docs/behaviours/create-table-folds-duplicate-unique.md); ON CONFLICT ON CONSTRAINT needs the name
    else if (c.type === 'u') later.push(`ALTER TABLE ${parent} ADD ${uniqueConstraintClause(c, cfg.key, newIndexName(cfg.table, cfg.newTable, c.indexName ?? c.name))}`);
    else if (c.type === 'c') {
      if (c.noInherit) warnings.push(`CHECK constraint ${c.name} is NO INHERIT, which a partitioned table cannot have: not carried over`);
      else if (c.validated) defs.push(`CONSTRAINT ${ident(c.name)} ${c.def}`);
      else later.push(`ALTER TABLE ${parent} ADD CONSTRAINT ${ident(c.name)} ${c.def}`);
    } else if (c.type === 'x') warnings.push(`EXCLUSION constraint ${c.name} is not carried over: re-create it by hand if it includes ${cfg.key} with =`);
    else if (c.type === 'f') {
      // FKs from a partitioned table cannot be NOT VALID
      // (docs/behaviours/no-not-valid-foreign-key-from-partitioned-table.md): add them now, while empty
      const def = !c.validated && c.def.endsWith(' NOT VALID') ? c.def.slice(0, -' NOT VALID'.length) : c.def;
      if (!c.validated) warnings.push(`foreign key ${c.name} is NOT VALID on the source; on the new table it is validated, so rows violating it would fail to copy`);
      later.push(`ALTER TABLE ${parent} ADD CONSTRAINT ${ident(c.name)} ${def}`);
      locks.push({ mode: 'SHARE ROW EXCLUSIVE', on: qname(c.refSchema!, c.refTable!), why: `foreign key ${c.name} (blocks writes to it for a moment)` });
    }
  }
  const createTable = [
    `CREATE TABLE ${parent} (\n  ${defs.join(',\n  ')}\n) PARTITION BY LIST (${ident(cfg.key)})`,
    ...later,
    ...securityStatements(source, parent, snap.defaultAclGrantees, snap.server.role),
    commentOnTable(parent, source.comment),
    ...source.columns.map((c) => commentOnColumn(parent, c.name, c.comment)),
    ...source.columns.filter((c) => c.statTarget !== null).map((c) => `ALTER TABLE ${parent} ALTER COLUMN ${ident(c.name)} SET STATISTICS ${c.statTarget}`),
  ].filter((s): s is string => s !== null);
  steps.push({
    id: 'create-table', phase: 'create', title: `Create ${cfg.schema}.${cfg.newTable} partitioned by LIST (${cfg.key})`,
    statements: createTable, locks, transactional: true, reverse: [`DROP TABLE IF EXISTS ${parent} CASCADE`], done: target !== null, notes: [...warnings],
  });

  // 2. Secondary indexes, created on the parent while it is empty: instant, and every partition (present and
  // future) gets them automatically (docs/behaviours/parent-indexes-reach-every-partition.md: never create them again
  // per partition).
  for (const ix of source.indexes.filter((i) => !i.backsConstraint && i.isValid)) {
    const name = newIndexName(cfg.table, cfg.newTable, ix.name);
    const sql = indexStatement(ix, parent, name, cfg.key, warnings);
    if (!sql) continue;
    steps.push({
      id: `create-index:${ix.name}`, phase: 'create', title: `Index ${name} (from ${ix.name})`, statements: [sql],
      locks: [{ mode: 'SHARE', on: parent, why: 'and on every partition; all empty and unused' }], transactional: true,
      reverse: [`DROP INDEX IF EXISTS ${qname(cfg.schema, name)}`], done: target?.indexes.some((i) => i.name === name) ?? false, notes: [],
    });
  }

  // 3. One partition per lookup row, then the default partition.
  const names = plannedPartitionNames(snap, cfg);
  for (const row of snap.lookupRows) {
    const name = names.get(row.key)!;
    const q = qname(cfg.schema, name);
    const partLocks: LockInfo[] = [{ mode: 'ACCESS EXCLUSIVE', on: parent, why: 'adding a partition' }];
    if (defaultPart) partLocks.push({ mode: 'ACCESS EXCLUSIVE', on: qname(defaultPart.schema, defaultPart.name), why: 'scanned to prove it holds no row of this key' });
    steps.push({
      id: `create-partition:${row.key}`, phase: 'create', title: `Partition ${name} for ${row.label ?? row.key}`,
      statements: [`CREATE TABLE ${q} PARTITION OF ${parent} FOR VALUES IN (${lit(row.key)})`, ...securityStatements(source, q, snap.defaultAclGrantees, snap.server.role)],
      locks: partLocks, transactional: true, reverse: [`DROP TABLE IF EXISTS ${q}`],
      done: partitionForKey(parts, key.type, row.key) !== undefined, notes: [],
    });
  }
  const qd = qname(cfg.schema, cfg.defaultPartition);
  steps.push({
    id: 'create-default-partition', phase: 'create', title: `Default partition ${cfg.defaultPartition}`,
    statements: [`CREATE TABLE ${qd} PARTITION OF ${parent} DEFAULT`, ...securityStatements(source, qd, snap.defaultAclGrantees, snap.server.role)],
    locks: [{ mode: 'ACCESS EXCLUSIVE', on: parent, why: 'adding a partition' }], transactional: true,
    reverse: [`DROP TABLE IF EXISTS ${qd}`], done: defaultPart !== undefined, notes: [],
  });

  // 4. Partitions for future lookup rows.
  if (cfg.autoPartitionTrigger) {
    const { fn, trigger } = autoPartitionNames(cfg);
    const lookup = qname(cfg.lookupSchema, cfg.lookup);
    steps.push({
      id: 'auto-partition-trigger', phase: 'create', title: `Auto-create partitions for new rows of ${cfg.lookupSchema}.${cfg.lookup}`,
      statements: [
        autoPartitionFunction(snap, cfg, fn),
        `REVOKE ALL ON FUNCTION partwise.${ident(fn)}() FROM PUBLIC`,
        `DROP TRIGGER IF EXISTS ${ident(trigger)} ON ${lookup}`,
        `CREATE TRIGGER ${ident(trigger)} AFTER INSERT ON ${lookup} FOR EACH ROW EXECUTE FUNCTION partwise.${ident(fn)}()`,
      ],
      locks: [{ mode: 'SHARE ROW EXCLUSIVE', on: lookup, why: 'creating a trigger; blocks writes to the lookup table for a moment' }],
      transactional: true,
      reverse: [`DROP TRIGGER IF EXISTS ${ident(trigger)} ON ${lookup}`, `DROP FUNCTION IF EXISTS partwise.${ident(fn)}()`],
      done: snap.lookup.triggers.some((t) => t.name === trigger),
      notes: ['A new lookup row creates its partition at once; if that fails (lock busy, permissions), the insert still succeeds and its rows go to the default partition until `partwise maintain`.'],
    });
  }
  // 5. The tables whose foreign key into the source lacks the key: the key column and its fill trigger
  // (src/plan/carryChildren.ts). Those partwise cannot carry are check's failures; the swap refuses them.
  steps.push(...carriedChildren(snap, cfg).map((c) => childCreateStep(c, cfg, snap.children.find((x) => x.schema === c.fk.fromSchema && x.table === c.fk.fromTable))));
  return { steps, warnings };
}

/** The foreign keys into the source that lack the key and that partwise can carry, with their names. */
export function carriedChildren(snap: Snapshot, cfg: Config): ChildCarry[] {
  const source = snap.source;
  if (!source) return [];
  return keylessForeignKeys(source, cfg)
    .filter((f) => !childProblem(f, source, cfg, snap.children.find((x) => x.schema === f.fromSchema && x.table === f.fromTable && x.constraint === f.name)))
    .map((f) => childCarry(f, source, cfg));
}

/**
 * CREATE INDEX for the new parent from a source index; null (with a warning) when it cannot exist there (check fails
 * on such a unique index and the swap refuses: carryLimits.ts). A unique index without the key gains it (a note of
 * uniquenessNotes).
 */
export function indexStatement(ix: Index, parent: string, name: string, key: string, warnings: string[]): string | null {
  if (!ix.prefixOk) {
    warnings.push(`index ${ix.name}: its definition could not be read reliably; re-create it by hand`);
    return null;
  }
  if (!ix.isUnique || ix.keyColumns.includes(key)) return `CREATE ${ix.isUnique ? 'UNIQUE ' : ''}INDEX ${ident(name)} ON ${parent} USING ${ix.methodAndColumns}`;
  if (uncarriedUniqueIndex(ix, key)) {
    warnings.push(`unique index ${ix.name} does not contain ${key} and is not a plain btree on columns: a partitioned table cannot enforce it; not carried over`);
    return null;
  }
  return `CREATE UNIQUE INDEX ${ident(name)} ON ${parent} USING btree (${withKey(ix.keyColumns, key).map(ident).join(', ')})`;
}
