/**
 * The swap: one transaction that puts the partitioned copy in the original's place, and its exact reverse.
 * Pure: snapshot (taken before the swap) + config -> statements. Objects bound by OID stay with the renamed original
 * (docs/behaviours/rename-leaves-oid-bindings-behind.md); everything the snapshot lists is carried over here.
 *
 * Names during `statements`: until the two table renames, cfg.table is the original and cfg.newTable the copy;
 * after them cfg.table is the partitioned table and cfg.oldTable the original. `reverse` runs in the post-swap
 * namespace until its renames and in the pre-swap one after them. Neither contains the capture machinery or the
 * final replay: the swap and rollback steps add those around these statements.
 */
import type { Config } from '../config/config.js';
import { derivedName } from '../config/names.js';
import type { Dependent, ForeignKeyIn, Grant, OwnedSequence, Snapshot, TableInfo, Trigger } from '../catalog/types.js';
import { createPolicy, grantStatements, ident, lit, qname, revokeSequenceStatements } from './ddl.js';
import { autoPartitionFunction, autoPartitionNames, carriedChildren, newIndexName, ownerStatement, PlanError } from './planCreate.js';
import { carryProblems } from './carryLimits.js';
import { childName, childProblem, compositeDefinition, keylessForeignKeys, syncTriggerStatement } from './carryChildren.js';
import { viaRootStatements } from './publications.js';
import type { LockInfo } from './types.js';

export interface SwapPlan {
  statements: string[];
  reverse: string[];
  locks: LockInfo[];
  /** what changes for the application and what partwise could not carry over */
  notes: string[];
}

/** A dollar-quote tag that does not occur in the body. */
function dollarQuote(body: string): string {
  let tag = '$swap$';
  for (let i = 0; body.includes(tag); i++) tag = `$swap${i}$`;
  return `${tag}${body}${tag}`;
}

/** Triggers partwise installs itself (change capture) never move with the table. */
export function isPartwiseTrigger(t: Trigger): boolean {
  return t.functionSchema === 'partwise';
}

/** The business triggers the swap carries over: non-internal, not inherited, not partwise's own. */
export function carriedTriggers(source: TableInfo): Trigger[] {
  return source.triggers.filter((t) => !t.inherited && !isPartwiseTrigger(t));
}

/** ALTER TABLE ... {ENABLE|DISABLE} TRIGGER restoring a tgenabled state ('O' origin, 'D', 'R' replica, 'A' always). */
function triggerState(table: string, name: string, enabled: string): string {
  const how = enabled === 'D' ? 'DISABLE' : enabled === 'R' ? 'ENABLE REPLICA' : enabled === 'A' ? 'ENABLE ALWAYS' : 'ENABLE';
  return `ALTER TABLE ${table} ${how} TRIGGER ${ident(name)}`;
}

/** What the source's index I is called on the new table (as planCreate named it), and on the old table after the swap. */
export function indexNamePairs(source: TableInfo, cfg: Config): Array<{ original: string; onNew: string; onOld: string }> {
  const out: Array<{ original: string; onNew: string; onOld: string }> = [];
  const pk = source.constraints.find((c) => c.type === 'p' && !c.inherited);
  for (const ix of source.indexes) {
    let onNew: string;
    if (pk && ix.name === pk.indexName) onNew = derivedName(cfg.newTable, 'pkey');
    else onNew = newIndexName(cfg.table, cfg.newTable, ix.name);
    out.push({ original: ix.name, onNew, onOld: newIndexName(cfg.table, cfg.oldTable, ix.name) });
  }
  const olds = new Map<string, string>();
  for (const p of out) {
    const clash = olds.get(p.onOld) ?? (source.indexes.some((i) => i.name === p.onOld) ? p.onOld : undefined);
    if (clash !== undefined) throw new PlanError(`index ${p.original} would be renamed to ${p.onOld} on ${cfg.oldTable}, which another index already uses; rename one of them`);
    olds.set(p.onOld, p.original);
  }
  return out;
}

/**
 * DO block restarting `table`'s identity column above its maximum and above `otherSeq`'s last value. With a `floor`
 * (the maximum read before the swap took its locks, when scanning a large table would hold the application's
 * writes) the scan is left out: rows written since came from `otherSeq`, whose last value is read here.
 */
function restartIdentity(table: string, column: string, otherSeq: string | null, floor?: string): string {
  const other = otherSeq ? `, COALESCE(pg_catalog.pg_sequence_last_value(${lit(otherSeq)}::pg_catalog.regclass), 0)` : '';
  const highest = floor !== undefined ? `${BigInt(floor).toString()}::bigint` : `COALESCE(max(${ident(column)}), 0)`;
  const from = floor !== undefined ? '' : ` FROM ${table}`;
  const body = `
DECLARE next_value bigint;
BEGIN
  SELECT GREATEST(${highest}${other}) + 1 INTO next_value${from};
  EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I RESTART WITH %s', ${lit(table)}, ${lit(column)}, next_value);
END
`;
  return `DO ${dollarQuote(body)}`;
}

/** Statements that recreate a dependent so that it reads whatever the qualified table name means now. */
function recreateDependent(d: Dependent): string[] {
  const q = qname(d.schema, d.name);
  if (d.kind === 'function') return [d.def];
  const withOpts = d.options?.length ? ` WITH (${d.options.join(', ')})` : '';
  if (d.kind === 'view') {
    // the definition names the table by its qualified name: it now resolves to the table in that place
    const out = [`CREATE OR REPLACE VIEW ${q}${withOpts} AS ${d.def.replace(/;\s*$/, '')}`];
    // check_option lives in the options, so the WITH clause above keeps it too
    return out;
  }
  const grants: Grant[] = d.grants ? (JSON.parse(d.grants) as Grant[]) : [];
  return [
    `DROP MATERIALIZED VIEW ${q}`,
    `CREATE MATERIALIZED VIEW ${q}${withOpts} AS ${d.def.replace(/;\s*$/, '')} WITH DATA`,
    ...(d.owner ? [`ALTER MATERIALIZED VIEW ${q} OWNER TO ${ident(d.owner)}`] : []),
    ...(d.indexDefs ?? []),
    ...grantStatements(grants, q),
    ...(d.comment !== null && d.comment !== undefined ? [`COMMENT ON MATERIALIZED VIEW ${q} IS ${lit(d.comment)}`] : []),
  ];
}

function replicaIdentityClause(t: TableInfo): string | null {
  switch (t.replicaIdentity) {
    case 'f': return 'FULL';
    case 'n': return 'NOTHING';
    case 'i': return t.replicaIdentityIndex ? `USING INDEX ${ident(t.replicaIdentityIndex)}` : null;
    default: return null;
  }
}

/**
 * Replica identity on the parent and on every partition: it does not propagate
 * (docs/behaviours/replica-identity-does-not-propagate.md).
 */
function replicaIdentityStatements(snap: Snapshot, cfg: Config, parent: string): string[] {
  const src = snap.source!;
  const clause = replicaIdentityClause(src);
  if (!clause) return [];
  const parts = snap.target?.partitions ?? [];
  if (src.replicaIdentity !== 'i') {
    return [`ALTER TABLE ${parent} REPLICA IDENTITY ${clause}`, ...parts.map((p) => `ALTER TABLE ${qname(p.schema, p.name)} REPLICA IDENTITY ${clause}`)];
  }
  // USING INDEX: each partition uses its own index attached to the parent's (found through pg_inherits)
  const body = `
DECLARE r record;
BEGIN
  EXECUTE pg_catalog.format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', ${lit(parent)}, ${lit(src.replicaIdentityIndex!)});
  FOR r IN SELECT pn.nspname AS part_schema, pc.relname AS part_name, ci.relname AS index_name
             FROM pg_catalog.pg_inherits ii
             JOIN pg_catalog.pg_class ci ON ci.oid = ii.inhrelid
             JOIN pg_catalog.pg_index x ON x.indexrelid = ci.oid
             JOIN pg_catalog.pg_class pc ON pc.oid = x.indrelid
             JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
            WHERE ii.inhparent = pg_catalog.to_regclass(${lit(qname(cfg.schema, src.replicaIdentityIndex!))}) LOOP
    EXECUTE pg_catalog.format('ALTER TABLE %I.%I REPLICA IDENTITY USING INDEX %I', r.part_schema, r.part_name, r.index_name);
  END LOOP;
END
`;
  return [`DO ${dollarQuote(body)}`];
}

/**
 * The new identity sequence replaces the source's: the roles that may use that one (currval, nextval, setval) may use
 * this one, and no other role (default privileges may have handed it out at create).
 */
function identityPrivileges(from: OwnedSequence, to: OwnedSequence | undefined): string[] {
  if (!to) return [];
  const q = qname(to.schema, to.name);
  const have = new Set(to.grants.map(grantKey));
  const want = new Set(from.grants.map(grantKey));
  return [...revokeSequenceStatements(to.grants.filter((g) => !want.has(grantKey(g))), q), ...grantStatements(from.grants.filter((g) => !have.has(grantKey(g))), q, 'SEQUENCE')];
}

/** OWNER TO the source's owner for the copy and each partition another role owns (post-swap names). */
function ownerStatements(snap: Snapshot, cfg: Config): string[] {
  const owner = snap.source!.owner;
  const tgt = snap.target!;
  return [
    { name: qname(cfg.schema, cfg.table), owner: tgt.owner },
    ...tgt.partitions.map((p) => ({ name: qname(p.schema, p.name), owner: p.owner })),
  ].filter((t) => t.owner !== owner).map((t) => ownerStatement(t.name, owner));
}

const grantKey = (g: Grant) => JSON.stringify([g.grantee, g.privilege, g.grantable, g.columnName]);

export interface SwapInputs {
  /** per identity column, its maximum in the copy read before the swap's locks (the scan would hold writes) */
  identityFloors?: Record<string, string>;
}

/** The swap transaction's statements (after the final forward replay) and their exact reverse. */
export function planSwap(snap: Snapshot, cfg: Config, inputs: SwapInputs = {}): SwapPlan {
  const src = snap.source;
  const tgt = snap.target;
  if (!src) throw new PlanError(`table ${cfg.schema}.${cfg.table} does not exist`);
  if (src.relkind === 'p') throw new PlanError(`${cfg.schema}.${cfg.table} is already partitioned: the swap has happened`);
  if (!tgt) throw new PlanError(`${cfg.schema}.${cfg.newTable} does not exist: run partwise create and migrate first`);
  if (snap.old) throw new PlanError(`${cfg.schema}.${cfg.oldTable} already exists: choose another --old-table or drop it`);

  const S = qname(cfg.schema, cfg.table); // before the renames: the original; after: the partitioned table
  const N = qname(cfg.schema, cfg.newTable);
  const O = qname(cfg.schema, cfg.oldTable);
  const notes: string[] = [];
  const locks: LockInfo[] = [
    { mode: 'ACCESS EXCLUSIVE', on: S, why: 'renamed; writes wait from the start of the swap (EXCLUSIVE), reads only for the renames' },
    { mode: 'ACCESS EXCLUSIVE', on: N, why: 'renamed' },
  ];

  // a foreign key into the table without the key is carried (src/plan/carryChildren.ts) unless check says it cannot be
  const factsOf = (f: ForeignKeyIn) => snap.children.find((x) => x.schema === f.fromSchema && x.table === f.fromTable && x.constraint === f.name);
  const blocked = keylessForeignKeys(src, cfg).map((f) => childProblem(f, src, cfg, factsOf(f))).filter((p): p is NonNullable<typeof p> => p !== null);
  if (blocked.length) {
    throw new PlanError(
      `foreign key(s) ${blocked.map((p) => `${p.fk.fromSchema}.${p.fk.fromTable}.${p.fk.name} (${p.reason})`).join(', ')} reference ${cfg.table} without ${cfg.key}, and partwise cannot carry them; ` +
        `a partitioned table can only be referenced through columns including the key (docs/behaviours/foreign-key-into-partitioned-table.md). Make them composite, then swap.`,
    );
  }
  const carried = new Map(carriedChildren(snap, cfg).map((c) => [c.fk, c]));
  const unprepared = [...carried.values()].filter((c) => !(factsOf(c.fk)?.fillTrigger && factsOf(c.fk)?.columnExists));
  if (unprepared.length)
    throw new PlanError(`${unprepared.map(childName).join(', ')} lack the ${cfg.key} column partwise fills: run partwise migrate (it adds and back-fills it), verify --data, then swap`);

  const lost = carryProblems(src, cfg);
  if (lost.length) {
    throw new PlanError(`${lost.map((p) => `${p.title.toLowerCase()}: ${p.details.join(', ')}: ${p.reason}`).join('; ')}. ` +
      `Fix it as partwise check says, then run partwise migrate, verify --data and swap`);
  }

  const fwd: string[] = [];
  const rev1: string[] = []; // reverse, post-swap namespace (before its renames), in order
  const rev2: string[] = []; // reverse, pre-swap namespace (after its renames), in order

  // 1. Free the original index names on the original (it becomes the old table), then take them on the copy.
  const pairs = indexNamePairs(src, cfg).filter((p) => {
    const present = tgt.indexes.some((i) => i.name === p.onNew);
    if (!present) notes.push(`index ${p.original} has no counterpart ${p.onNew} on ${cfg.newTable}; its name is not carried over`);
    return present;
  });
  for (const p of pairs) fwd.push(`ALTER INDEX ${qname(cfg.schema, p.original)} RENAME TO ${ident(p.onOld)}`);
  for (const p of pairs) fwd.push(`ALTER INDEX ${qname(cfg.schema, p.onNew)} RENAME TO ${ident(p.original)}`);
  // reverse (post-swap namespace, index names are schema-wide so the same statements apply)
  const revIndex = [
    ...pairs.map((p) => `ALTER INDEX ${qname(cfg.schema, p.original)} RENAME TO ${ident(p.onNew)}`),
    ...pairs.map((p) => `ALTER INDEX ${qname(cfg.schema, p.onOld)} RENAME TO ${ident(p.original)}`),
  ];

  // 2. The renames.
  fwd.push(`ALTER TABLE ${S} RENAME TO ${ident(cfg.oldTable)}`, `ALTER TABLE ${N} RENAME TO ${ident(cfg.table)}`);
  const revRenames = [`ALTER TABLE ${S} RENAME TO ${ident(cfg.newTable)}`, `ALTER TABLE ${O} RENAME TO ${ident(cfg.table)}`];

  // From here, S is the partitioned table and O the original.
  // 3. Security: the copy got RLS, policies and grants at create; add only what is missing, never duplicate.
  // create enables RLS on the copy whatever the source has (it is reachable through the API while it fills): a source
  // without RLS gets it turned off on the parent here, or every role but the owner would see no rows and write none.
  // The partitions keep it: only the parent's policies apply through the parent, and direct access stays denied.
  if (!tgt.rls && src.rls) fwd.push(`ALTER TABLE ${S} ENABLE ROW LEVEL SECURITY`);
  if (tgt.rls && !src.rls) {
    fwd.push(`ALTER TABLE ${S} DISABLE ROW LEVEL SECURITY`);
    rev1.push(`ALTER TABLE ${S} ENABLE ROW LEVEL SECURITY`);
  }
  if (!tgt.rlsForced && src.rlsForced) fwd.push(`ALTER TABLE ${S} FORCE ROW LEVEL SECURITY`);
  if (tgt.rlsForced && !src.rlsForced) {
    fwd.push(`ALTER TABLE ${S} NO FORCE ROW LEVEL SECURITY`);
    rev1.push(`ALTER TABLE ${S} FORCE ROW LEVEL SECURITY`);
  }
  for (const p of src.policies) {
    const there = tgt.policies.find((x) => x.name === p.name);
    if (!there) fwd.push(createPolicy(p, S));
    else if (JSON.stringify(there) !== JSON.stringify(p)) notes.push(`policy ${p.name} differs on ${cfg.newTable}; kept as it is there`);
  }
  const have = new Set(tgt.grants.map(grantKey));
  fwd.push(...grantStatements(src.grants.filter((g) => !have.has(grantKey(g))), S));
  if (tgt.comment !== src.comment && src.comment !== null) fwd.push(`COMMENT ON TABLE ${S} IS ${lit(src.comment)}`);
  for (const c of src.columns.filter((x) => x.statTarget !== null)) {
    const t = tgt.columns.find((x) => x.name === c.name);
    if (t && t.statTarget !== c.statTarget) fwd.push(`ALTER TABLE ${S} ALTER COLUMN ${ident(c.name)} SET STATISTICS ${c.statTarget}`);
  }

  // 4. Replica identity, on the parent and every partition.
  fwd.push(...replicaIdentityStatements(snap, cfg, S));

  // 5a. The source's owner, if create did not give it to the copy (an older partwise, or partitions made since by
  // another role): before OWNED BY, which needs the sequence and the table to have the same owner. Not reversed:
  // after a rollback the copy keeps the owner create gives it.
  fwd.push(...ownerStatements(snap, cfg));

  // 5. Sequences: serial sequences follow the table (docs/behaviours/serial-sequence-follows-its-owner.md);
  // identities continue above the maximum.
  for (const seq of src.sequences) {
    const col = src.columns.find((c) => c.name === seq.columnName);
    if (!col) continue;
    if (seq.kind === 'owned') {
      fwd.push(`ALTER SEQUENCE ${qname(seq.schema, seq.name)} OWNED BY ${S}.${ident(col.name)}`);
      rev1.push(`ALTER SEQUENCE ${qname(seq.schema, seq.name)} OWNED BY ${O}.${ident(col.name)}`);
    } else {
      fwd.push(...identityPrivileges(seq, tgt.sequences.find((q) => q.kind === 'identity' && q.columnName === col.name)));
      const newSeq = tgt.columns.find((c) => c.name === col.name)?.identitySequence ?? null;
      const floor = inputs.identityFloors?.[col.name];
      fwd.push(restartIdentity(S, col.name, qname(seq.schema, seq.name), floor));
      rev1.push(restartIdentity(O, col.name, newSeq, floor));
    }
  }

  // 6. Business triggers: created on the partitioned parent only
  // (docs/behaviours/row-trigger-cloned-to-partitions.md), disabled on the old table so reverse replay does not fire
  // them (docs/behaviours/trigger-enable-modes.md); re-enabled by the reverse.
  for (const t of carriedTriggers(src)) {
    const exists = tgt.triggers.some((x) => x.name === t.name);
    if (exists) notes.push(`trigger ${t.name} already exists on ${cfg.newTable}; kept as it is there`);
    else {
      fwd.push(t.def); // pg_get_triggerdef names the table qualified: it resolves to the partitioned table now
      if (t.enabled !== 'O') fwd.push(triggerState(S, t.name, t.enabled));
      rev1.push(`DROP TRIGGER ${ident(t.name)} ON ${S}`);
    }
    if (t.enabled !== 'D') {
      fwd.push(`ALTER TABLE ${O} DISABLE TRIGGER ${ident(t.name)}`);
      rev1.push(triggerState(O, t.name, t.enabled));
    }
  }

  // 7. Rules: recreated on the new table, disabled on the old one (reverse replay writes there).
  for (const r of src.rules) {
    fwd.push(r.def.replace(/;\s*$/, ''), `ALTER TABLE ${O} DISABLE RULE ${ident(r.name)}`);
    rev1.push(`DROP RULE ${ident(r.name)} ON ${S}`, `ALTER TABLE ${O} ENABLE RULE ${ident(r.name)}`);
  }

  // 8. Publications (Supabase realtime). One that lists the table gets the partitioned table instead; FOR ALL TABLES
  // and FOR TABLES IN SCHEMA take it by themselves. --publish-via-root: see src/plan/publications.ts.
  const viaRoot = viaRootStatements(src, cfg);
  fwd.push(...viaRoot.forward);
  rev1.push(...viaRoot.reverse);
  notes.push(...viaRoot.notes);
  for (const p of src.publications.filter((x) => x.kind === 'table')) {
    fwd.push(`ALTER PUBLICATION ${ident(p.name)} DROP TABLE ${O}`, `ALTER PUBLICATION ${ident(p.name)} ADD TABLE ${S}`);
    rev1.push(`ALTER PUBLICATION ${ident(p.name)} DROP TABLE ${S}`, `ALTER PUBLICATION ${ident(p.name)} ADD TABLE ${O}`);
  }
  for (const p of src.publications) {
    if (!p.viaRoot && !cfg.publishViaRoot) {
      notes.push(
        `publication ${p.name} has publish_via_partition_root = false: after the swap it publishes the changes under each partition's name, ` +
          `not ${cfg.table}; subscribers that expect ${cfg.table} (logical replication, Supabase realtime filters) stop or miss them. ` +
          `--publish-via-root sets it to true in the swap transaction (partwise check says what else it affects).`,
      );
    }
  }

  // 9. Foreign keys into the table: dropped from the original, added to the partitioned table NOT VALID (no scan of
  // the referencing table under lock); the swap step validates them after commit.
  // One without the key (a carried child, src/plan/carryChildren.ts) becomes (fk columns, key) -> (columns, key) of
  // the partitioned table, with the same actions, match type, deferrability and name; the source's key-following
  // trigger goes with the original (the reverse puts both back).
  for (const f of src.foreignKeysIn) {
    const from = qname(f.fromSchema, f.fromTable);
    const child = carried.get(f);
    locks.push({ mode: 'ACCESS EXCLUSIVE', on: from, why: `foreign key ${f.name} moved to the partitioned table` });
    const original = f.def.endsWith(' NOT VALID') ? f.def : `${f.def} NOT VALID`;
    const def = child ? `${compositeDefinition(child, S)} NOT VALID` : original;
    fwd.push(`ALTER TABLE ${from} DROP CONSTRAINT ${ident(f.name)}`, `ALTER TABLE ${from} ADD CONSTRAINT ${ident(f.name)} ${def}`);
    rev1.push(`ALTER TABLE ${from} DROP CONSTRAINT ${ident(f.name)}`);
    rev2.push(`ALTER TABLE ${from} ADD CONSTRAINT ${ident(f.name)} ${original}`);
    if (child && factsOf(f)?.syncTrigger) {
      fwd.push(`DROP TRIGGER ${ident(child.syncTrigger)} ON ${O}`);
      rev2.push(syncTriggerStatement(child, S));
    }
  }

  // 10. Views, materialized views and BEGIN ATOMIC functions: recreated from their definitions, which name the
  // table by its qualified name, so they bind to whatever holds that name now.
  for (const d of src.dependents) {
    if (d.kind !== 'function')
      // by its statement: LOCK TABLE refuses a materialized view, and on a view it locks the tables the view reads
      // too (the live table, in ACCESS EXCLUSIVE, long before the switch means to)
      locks.push({ mode: 'ACCESS EXCLUSIVE', on: qname(d.schema, d.name), why: `${d.kind} recreated to read the partitioned table`, byStatementOnly: true });
    fwd.push(...recreateDependent(d));
    rev2.push(...recreateDependent(d));
    if (d.kind === 'materialized view') notes.push(`materialized view ${d.schema}.${d.name} is dropped and re-created (and filled) inside the swap transaction`);
  }

  // 11. The auto-partition trigger's function names the parent: it must follow the rename.
  if (cfg.autoPartitionTrigger && snap.lookup) {
    const { fn, trigger } = autoPartitionNames(cfg);
    if (snap.lookup.triggers.some((t) => t.name === trigger)) {
      fwd.push(autoPartitionFunction(snap, { ...cfg, newTable: cfg.table }, fn));
      rev1.push(autoPartitionFunction(snap, cfg, fn));
    }
  }

  if (src.replicaIdentity !== 'd') notes.push(`partitions created later (new programs) get the default replica identity; set it on them by hand`);

  return { statements: fwd, reverse: [...rev1, ...revRenames, ...revIndex, ...rev2], locks, notes };
}

/** Foreign keys the swap adds NOT VALID, to validate after commit (they were valid on the original). */
export function foreignKeysToValidate(snap: Snapshot): Array<{ table: string; name: string }> {
  return (snap.source?.foreignKeysIn ?? [])
    .filter((f) => !f.def.endsWith(' NOT VALID'))
    .map((f) => ({ table: qname(f.fromSchema, f.fromTable), name: f.name }));
}
