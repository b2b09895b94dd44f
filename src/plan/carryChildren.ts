/**
 * Foreign keys into the source that lack the partition key (docs/behaviours/foreign-key-into-partitioned-table.md):
 * partwise carries the referencing ("child") table instead of asking the DBA to rewrite it. Pure: catalog pictures
 * and config in, statements out. For each such foreign key:
 * - create: the key column on the child (nullable: instant), and a BEFORE INSERT OR UPDATE OF <fk columns> trigger
 *   that fills it from the parent's key, so the application's inserts stay as they are. It also rejects an orphan
 *   (no parent row: 23503), since the new foreign key, MATCH SIMPLE on (fk, key), would not check a row whose key is
 *   NULL. A DEFERRABLE foreign key lets the parent come later in the transaction: there the BEFORE trigger leaves the
 *   key NULL and a deferred constraint trigger fills it (or rejects the orphan) at commit.
 * - migrate: a trigger on the source that follows a parent's key change into its children (installed with change
 *   capture, which also touches the source), the back-fill in batches (src/move/childBackfill.ts), then an index on
 *   (fk columns, key) CONCURRENTLY when none exists: after the back-fill, so the back-fill's updates stay HOT.
 * - swap: the foreign key is replaced by (fk columns, key) -> (referenced columns, key) of the partitioned table, NOT
 *   VALID in the swap transaction and validated after commit; actions, match type, deferrability and the name carry
 *   over. The source's key-following trigger goes (after the swap the foreign key itself guards key changes).
 * - rollback before the swap removes column, triggers, functions and index; after it, the original foreign key.
 */
import type { Config } from '../config/config.js';
import { fitIdentifier } from '../config/names.js';
import type { ForeignKeyIn, TableInfo } from '../catalog/types.js';
import { ident, lit, qname } from './ddl.js';
import type { LockInfo, Step } from './types.js';

/** What the catalog shows of one carried child (read by takeSnapshot; see childFactsSql). */
export interface ChildFacts {
  constraint: string;
  schema: string;
  table: string;
  /** the child has a column named like the key */
  columnExists: boolean;
  /** partwise's fill function exists: partwise added the column (same transaction) */
  fillFunction: boolean;
  fillTrigger: boolean;
  /** the source's key-following trigger */
  syncTrigger: boolean;
  /** partwise's index on the child: null when absent */
  index: { valid: boolean } | null;
  /** some valid index (partwise's or not) starts with the foreign key's columns and the key */
  covered: boolean;
}

/** One foreign key partwise carries, with every name it uses. */
export interface ChildCarry {
  fk: ForeignKeyIn;
  child: string;
  /** the key column added to the child */
  column: string;
  keyType: string;
  fillFn: string;
  fillTrigger: string;
  deferredTrigger: string;
  syncFn: string;
  syncTrigger: string;
  index: string;
}

/** The child's name for people (schema.table, unquoted). */
export const childName = (c: ChildCarry): string => `${c.fk.fromSchema}.${c.fk.fromTable}`;

export interface ChildProblem {
  fk: ForeignKeyIn;
  reason: string;
  todo: string;
}

/** The foreign keys into the source whose columns lack the key. */
export function keylessForeignKeys(source: TableInfo, cfg: Config): ForeignKeyIn[] {
  return source.foreignKeysIn.filter((f) => !f.refColumns.includes(cfg.key));
}

export function childCarry(fk: ForeignKeyIn, source: TableInfo, cfg: Config): ChildCarry {
  const keyType = source.columns.find((c) => c.name === cfg.key)?.type ?? 'text';
  const base = `${fk.fromSchema}_${fk.fromTable}_${cfg.key}`;
  return {
    fk, child: qname(fk.fromSchema, fk.fromTable), column: cfg.key, keyType,
    fillFn: `partwise.${ident(fitIdentifier(`fill_${base}`))}`,
    fillTrigger: fitIdentifier(`partwise_fill_${cfg.key}`),
    deferredTrigger: fitIdentifier(`partwise_fill_deferred_${cfg.key}`),
    syncFn: `partwise.${ident(fitIdentifier(`sync_${base}`))}`,
    syncTrigger: fitIdentifier(`partwise_sync_${fk.fromSchema}_${fk.fromTable}`),
    index: fitIdentifier(`${fk.fromTable}_${[...fk.columns, cfg.key].join('_')}_idx`),
  };
}

/** Why a keyless foreign key cannot be carried; null when it can. */
export function childProblem(fk: ForeignKeyIn, source: TableInfo, cfg: Config, facts: ChildFacts | undefined): ChildProblem | null {
  const child = `${fk.fromSchema}.${fk.fromTable}`;
  const fail = (reason: string, todo: string): ChildProblem => ({ fk, reason, todo });
  const makeComposite = `add ${cfg.key} to ${child} by hand and make ${fk.name} (${[...fk.columns, cfg.key].join(', ')}) referencing (${[...fk.refColumns, cfg.key].join(', ')}), or drop the foreign key; then run check again`;
  if (fk.fromRelkind === 'p' || fk.fromIsPartition)
    return fail(`${child} is itself partitioned (or a partition): partwise cannot add ${cfg.key} to it and index it CONCURRENTLY, and its own partition key may differ`, makeComposite);
  if (fk.fromInherits) return fail(`${child} is part of an inheritance tree: the added column would reach every table of it`, makeComposite);
  if (fk.fromRelkind !== 'r') return fail(`${child} is not an ordinary table (relkind ${fk.fromRelkind})`, makeComposite);
  if (!fk.fromOwnerMember) return fail(`${child} is owned by ${fk.fromOwner}, and the role partwise runs as cannot act as it (ALTER TABLE, triggers)`, `run partwise as ${fk.fromOwner} or a superuser, or ${makeComposite}`);
  if (keylessForeignKeys(source, cfg).filter((f) => f.fromSchema === fk.fromSchema && f.fromTable === fk.fromTable).length > 1)
    return fail(`${child} has more than one foreign key into ${cfg.table} without ${cfg.key}: partwise adds one ${cfg.key} column per referencing table`, makeComposite);
  if (fk.fromAllColumns.includes(cfg.key) && !facts?.fillFunction)
    return fail(`${child} already has a column ${cfg.key} that partwise did not add: partwise will not fill or drop a column it does not own`, makeComposite);
  if (/ON (DELETE|UPDATE) SET (NULL|DEFAULT) \(/.test(fk.def))
    return fail(`${fk.name} sets only some columns on delete (SET NULL/SET DEFAULT with a column list): partwise does not rewrite that form`, makeComposite);
  if (!source.columns.some((c) => c.name === cfg.key)) return fail(`${cfg.table} has no column ${cfg.key}`, 'check --key');
  return null;
}

const ACTION: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** The carried foreign key's definition: (fk columns, key) -> `parent` (referenced columns, key), same behaviour. */
export function compositeDefinition(c: ChildCarry, parent: string): string {
  const f = c.fk;
  let def = `FOREIGN KEY (${[...f.columns, c.column].map(ident).join(', ')}) REFERENCES ${parent} (${[...f.refColumns, c.column].map(ident).join(', ')})`;
  if (f.matchType === 'f') def += ' MATCH FULL';
  def += ` ON UPDATE ${ACTION[f.onUpdate] ?? 'NO ACTION'} ON DELETE ${ACTION[f.onDelete] ?? 'NO ACTION'}`;
  if (f.deferrable) def += f.deferred ? ' DEFERRABLE INITIALLY DEFERRED' : ' DEFERRABLE';
  return def;
}

const dq = (body: string) => {
  let tag = '$fill$';
  for (let i = 0; body.includes(tag); i++) tag = `$fill${i}$`;
  return `${tag}${body}${tag}`;
};

/**
 * The child's fill function. BEFORE: the key from the parent row (read by name, so that after the swap it reads the
 * partitioned table); no parent: 23503, or, for a deferrable foreign key, NULL for now. AFTER (the deferred
 * constraint trigger, at commit): fills the rows of this reference still without a key, or rejects the orphan.
 * SECURITY DEFINER: the parent's row level security must not hide the row from the application's role (foreign key
 * checks do not see it either).
 */
export function fillFunction(c: ChildCarry, source: string): string {
  const f = c.fk;
  const col = ident(c.column);
  const anyNull = f.columns.map((x) => `NEW.${ident(x)} IS NULL`).join(' OR ');
  const where = f.refColumns.map((r, i) => `${ident(r)} = $${i + 1}`).join(' AND ');
  const using = f.columns.map((x) => `NEW.${ident(x)}`).join(', ');
  const childWhere = f.columns.map((x) => `${ident(x)} = NEW.${ident(x)}`).join(' AND ');
  const shown = f.columns.map((x) => `COALESCE(NEW.${ident(x)}::text, 'null')`).join(` || ', ' || `);
  const body = `
DECLARE
  k ${c.keyType};
  n bigint;
BEGIN
  IF ${anyNull} THEN
    IF TG_WHEN = 'BEFORE' THEN NEW.${col} := NULL; RETURN NEW; END IF;
    RETURN NULL;
  END IF;
  EXECUTE ${lit(`SELECT ${ident(c.column)} FROM ${source} WHERE ${where}`)} INTO k USING ${using};
  GET DIAGNOSTICS n = ROW_COUNT;
  IF TG_WHEN = 'BEFORE' THEN
    IF n = 0 AND ${f.deferrable ? 'false' : 'true'} THEN
      RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
        MESSAGE = ${lit(`insert or update on table "${f.fromTable}" violates foreign key constraint "${f.name}"`)},
        DETAIL = ${lit(`Key (${f.columns.join(', ')})=(`)} || ${shown} || ${lit(`) is not present in table "${source}".`)};
    END IF;
    NEW.${col} := k;
    RETURN NEW;
  END IF;
  IF n = 0 THEN
    PERFORM 1 FROM ${c.child} WHERE ${childWhere} LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
        MESSAGE = ${lit(`insert or update on table "${f.fromTable}" violates foreign key constraint "${f.name}"`)},
        DETAIL = ${lit(`Key (${f.columns.join(', ')})=(`)} || ${shown} || ${lit(`) is not present in table "${source}".`)};
    END IF;
    RETURN NULL;
  END IF;
  UPDATE ${c.child} SET ${col} = k WHERE ${childWhere} AND ${col} IS NULL;
  RETURN NULL;
END
`;
  return `CREATE OR REPLACE FUNCTION ${c.fillFn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dq(body)}`;
}

/** The source's trigger function: a parent's key change reaches its children (until the swap). */
export function syncFunction(c: ChildCarry): string {
  const f = c.fk;
  const col = ident(c.column);
  const where = f.columns.map((x, i) => `${ident(x)} = NEW.${ident(f.refColumns[i]!)}`).join(' AND ');
  const body = `
BEGIN
  UPDATE ${c.child} SET ${col} = NEW.${col} WHERE ${where} AND ${col} IS DISTINCT FROM NEW.${col};
  RETURN NULL;
END
`;
  return `CREATE OR REPLACE FUNCTION ${c.syncFn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dq(body)}`;
}

export function syncTriggerStatement(c: ChildCarry, source: string): string {
  const k = ident(c.column);
  return `CREATE TRIGGER ${ident(c.syncTrigger)} AFTER UPDATE OF ${k} ON ${source} FOR EACH ROW WHEN (OLD.${k} IS DISTINCT FROM NEW.${k}) EXECUTE FUNCTION ${c.syncFn}()`;
}

/** create: the column, the fill function and its trigger(s), in one transaction on the child. */
export function childCreateStep(c: ChildCarry, cfg: Config, facts: ChildFacts | undefined): Step {
  const source = qname(cfg.schema, cfg.table);
  const cols = c.fk.columns.map(ident).join(', ');
  const statements = [
    `ALTER TABLE ${c.child} ADD COLUMN IF NOT EXISTS ${ident(c.column)} ${c.keyType}`,
    fillFunction(c, source),
    `REVOKE ALL ON FUNCTION ${c.fillFn}() FROM PUBLIC`,
    `DROP TRIGGER IF EXISTS ${ident(c.fillTrigger)} ON ${c.child}`,
    `CREATE TRIGGER ${ident(c.fillTrigger)} BEFORE INSERT OR UPDATE OF ${cols} ON ${c.child} FOR EACH ROW EXECUTE FUNCTION ${c.fillFn}()`,
  ];
  if (c.fk.deferrable) {
    statements.push(
      `DROP TRIGGER IF EXISTS ${ident(c.deferredTrigger)} ON ${c.child}`,
      `CREATE CONSTRAINT TRIGGER ${ident(c.deferredTrigger)} AFTER INSERT OR UPDATE OF ${cols} ON ${c.child} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ` +
        `WHEN (NEW.${ident(c.column)} IS NULL) EXECUTE FUNCTION ${c.fillFn}()`,
    );
  }
  const locks: LockInfo[] = [{ mode: 'ACCESS EXCLUSIVE', on: c.child, why: `adding the nullable column ${c.column} (catalog only: a moment) and the trigger that fills it` }];
  return {
    id: `child-key:${c.fk.fromSchema}.${c.fk.fromTable}`, phase: 'create',
    title: `Add ${c.column} to ${c.fk.fromSchema}.${c.fk.fromTable} (${c.fk.name}), filled by a trigger from ${cfg.table}`,
    statements, locks, transactional: true, reverse: childRemovalStatements(c, cfg, true),
    done: facts?.fillFunction === true && facts.fillTrigger && facts.columnExists,
    notes: [`the application's inserts into ${c.fk.fromTable} stay as they are: the trigger reads ${c.column} from the referenced row`],
  };
}

/** migrate, before the back-fill: the source's trigger that follows a parent's key change into the children. */
export function childSyncStep(carries: ChildCarry[], cfg: Config): Step {
  const source = qname(cfg.schema, cfg.table);
  return {
    id: 'child-sync', phase: 'migrate', title: `Follow ${cfg.key} changes of ${cfg.table} into ${carries.map((c) => c.fk.fromTable).join(', ')}`,
    statements: [
      `LOCK TABLE ${source} IN SHARE ROW EXCLUSIVE MODE`,
      ...carries.flatMap((c) => [syncFunction(c), `REVOKE ALL ON FUNCTION ${c.syncFn}() FROM PUBLIC`, `DROP TRIGGER IF EXISTS ${ident(c.syncTrigger)} ON ${source}`, syncTriggerStatement(c, source)]),
    ],
    locks: [{ mode: 'SHARE ROW EXCLUSIVE', on: source, why: 'creating triggers; blocks writes for a moment' }],
    transactional: true, reverse: [], done: false, notes: [],
  };
}

/** migrate, after the back-fill: the index on (fk columns, key), CONCURRENTLY; an INVALID one (a killed build) first goes. */
export function childIndexStep(c: ChildCarry, facts: ChildFacts | undefined): Step {
  const q = qname(c.fk.fromSchema, c.index);
  const statements = [
    ...(facts?.index && !facts.index.valid ? [`DROP INDEX CONCURRENTLY IF EXISTS ${q}`] : []),
    `CREATE INDEX CONCURRENTLY ${ident(c.index)} ON ${c.child} (${[...c.fk.columns, c.column].map(ident).join(', ')})`,
  ];
  return {
    id: `child-index:${c.fk.fromSchema}.${c.fk.fromTable}`, phase: 'migrate', title: `Index ${c.index} on ${c.fk.fromSchema}.${c.fk.fromTable} (${[...c.fk.columns, c.column].join(', ')})`,
    statements, locks: [{ mode: 'SHARE UPDATE EXCLUSIVE', on: c.child, why: 'CREATE INDEX CONCURRENTLY: reads and writes go on' }],
    transactional: false, reverse: [`DROP INDEX IF EXISTS ${q}`], done: facts ? facts.covered : false, notes: [],
  };
}

/**
 * Everything partwise added to a child (and the source's trigger), dropped: for the rollback before the swap. Only
 * the column partwise added (its fill function exists) is dropped.
 */
export function childRemovalStatements(c: ChildCarry, cfg: Config, added: boolean): string[] {
  const source = qname(cfg.schema, cfg.table);
  return [
    `DROP TRIGGER IF EXISTS ${ident(c.syncTrigger)} ON ${source}`,
    `DROP FUNCTION IF EXISTS ${c.syncFn}()`,
    `DROP INDEX IF EXISTS ${qname(c.fk.fromSchema, c.index)}`,
    `DROP TRIGGER IF EXISTS ${ident(c.deferredTrigger)} ON ${c.child}`,
    `DROP TRIGGER IF EXISTS ${ident(c.fillTrigger)} ON ${c.child}`,
    `DROP FUNCTION IF EXISTS ${c.fillFn}()`,
    ...(added ? [`ALTER TABLE ${c.child} DROP COLUMN IF EXISTS ${ident(c.column)}`] : []),
  ];
}

/** The batch of the back-fill: one range of the child's heap blocks. $1, $2: the range's first and end tid. */
export function backfillBatchSql(c: ChildCarry, source: string): string {
  const col = ident(c.column);
  const join = c.fk.columns.map((x, i) => `p.${ident(c.fk.refColumns[i]!)} = ch.${ident(x)}`).join(' AND ');
  return `UPDATE ${c.child} ch SET ${col} = p.${col} FROM ${source} p WHERE ch.ctid >= $1::tid AND ch.ctid < $2::tid AND ${join} AND ch.${col} IS DISTINCT FROM p.${col}`;
}

/** Rows of the child whose key is missing or differs from their parent's (the swap's gate; 0 before it may go). */
export function mismatchCountSql(c: ChildCarry, source: string): string {
  const col = ident(c.column);
  const join = c.fk.columns.map((x, i) => `p.${ident(c.fk.refColumns[i]!)} = ch.${ident(x)}`).join(' AND ');
  return `SELECT count(*)::int8 AS n FROM ${c.child} ch JOIN ${source} p ON ${join} WHERE ch.${col} IS DISTINCT FROM p.${col}`;
}

/** What check says will be added for one carried foreign key. */
export function carryWords(c: ChildCarry, cfg: Config): { reason: string; details: string[] } {
  const f = c.fk;
  const child = `${f.fromSchema}.${f.fromTable}`;
  const composite = compositeDefinition(c, qname(cfg.schema, cfg.table));
  const keyChange = f.onUpdate === 'c'
    ? `a change of ${cfg.key} on a referenced row cascades to ${f.fromTable} (ON UPDATE CASCADE carries over)`
    : `changing ${cfg.key} of a row that ${f.fromTable} references then fails (${ACTION[f.onUpdate] ?? 'NO ACTION'}), as the foreign key includes it`;
  return {
    reason: `${f.name} references ${cfg.table} (${f.refColumns.join(', ')}) without ${cfg.key}: partwise carries ${child} along. ` +
      `create adds ${cfg.key} (${c.keyType}, nullable) to it with a trigger that fills it from ${cfg.table}; migrate back-fills it in batches and indexes (${[...f.columns, cfg.key].join(', ')}) CONCURRENTLY; ` +
      `the swap replaces the foreign key by ${f.name} ${composite}. After the swap ${keyChange}`,
    details: [
      `column ${child}.${cfg.key} ${c.keyType} (nullable, added instantly)`,
      `trigger ${c.fillTrigger} on ${child}: fills ${cfg.key} on INSERT and on UPDATE OF ${f.columns.join(', ')}${f.deferrable ? `; constraint trigger ${c.deferredTrigger} (deferred) for a parent inserted later in the transaction` : ''}`,
      `index ${f.fromSchema}.${c.index} (${[...f.columns, cfg.key].join(', ')}) CONCURRENTLY, when no index starts with these columns`,
      `foreign key at the swap: ${f.name} ${composite}`,
      `the back-fill updates ${child}: its own UPDATE triggers fire for those rows unless partwise runs as a superuser (then the batches run with session_replication_role = replica)`,
    ],
  };
}
