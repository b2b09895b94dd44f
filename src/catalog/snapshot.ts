import type pg from 'pg';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import { CATALOG_SEARCH_PATH, withTransaction } from '../exec/transaction.js';
import { sqlFile, sqlTemplate } from '../sqlFiles.js';
import { childCarry, keylessForeignKeys, type ChildFacts } from '../plan/carryChildren.js';
import type {
  Blocker, Column, Constraint, Dependent, ForeignKeyIn, Grant, Index, InheritanceChild, LookupRow, OwnedSequence, Partition,
  PartitionedTableInfo, Policy, Privileges, Publication, Rule, ServerInfo, Snapshot, TableInfo, Trigger,
} from './types.js';

type Row = Record<string, unknown>;

/** snake_case row keys to camelCase, so SQL files stay idiomatic and TS stays typed. */
function camel<T>(row: Row): T {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  return out as T;
}

async function rows<T>(client: pg.ClientBase, file: string, params: unknown[]): Promise<T[]> {
  const r = await client.query(sqlFile(`catalog/${file}`), params);
  return r.rows.map((x) => camel<T>(x as Row));
}

/** Rows of a per-relation catalog file (grants, policies, indexes) for several relations, by relation. */
async function rowsByRelation<T>(client: pg.ClientBase, file: string, oids: number[]): Promise<(oid: number) => T[]> {
  const map = new Map<number, T[]>();
  if (oids.length) {
    for (const { relid, ...rest } of await rows<{ relid: string | number }>(client, file, [oids])) {
      const id = Number(relid);
      map.set(id, [...(map.get(id) ?? []), rest as T]);
    }
  }
  return (oid: number) => map.get(oid) ?? [];
}

function num<T extends Row>(o: T, keys: string[]): T {
  for (const k of keys) if (o[k] !== null && o[k] !== undefined) (o as Row)[k] = Number(o[k]);
  return o;
}

/** Introspects one table by schema and name; null when it does not exist. */
export async function readTable(client: pg.ClientBase, schema: string, name: string): Promise<TableInfo | null> {
  const rel = (await rows<Row>(client, 'relation.sql', [schema, name]))[0];
  if (!rel) return null;
  num(rel, ['oid', 'reltuples', 'totalBytes', 'tableBytes']);
  const oid = rel.oid as number;
  const [columns, constraints, foreignKeysIn, indexes, triggers, rules, policies, grants, dependents, publications, sequences, inheritanceChildren] =
    [
      await rows<Column>(client, 'columns.sql', [oid]),
      await rows<Constraint>(client, 'constraints.sql', [oid]),
      await rows<ForeignKeyIn>(client, 'foreign_keys_in.sql', [oid]),
      (await rowsByRelation<Index>(client, 'indexes.sql', [oid]))(oid),
      await rows<Trigger>(client, 'triggers.sql', [oid]),
      await rows<Rule>(client, 'rules.sql', [oid]),
      (await rowsByRelation<Policy>(client, 'policies.sql', [oid]))(oid),
      (await rowsByRelation<Grant>(client, 'grants.sql', [oid]))(oid),
      await rows<Dependent>(client, 'dependents.sql', [oid]),
      await rows<Publication>(client, 'publications.sql', [oid]),
      await rows<OwnedSequence>(client, 'sequences.sql', [oid]),
      await rows<InheritanceChild>(client, 'inheritance_children.sql', [oid]),
    ];
  for (const c of columns) num(c as unknown as Row, ['typeOid']);
  for (const c of inheritanceChildren) num(c as unknown as Row, ['reltuples']);
  return {
    ...(rel as unknown as Omit<TableInfo, 'columns'>),
    columns, constraints, foreignKeysIn, indexes, triggers, rules, policies, grants, dependents, publications, sequences, inheritanceChildren,
  };
}

export async function readPartitioned(client: pg.ClientBase, schema: string, name: string): Promise<PartitionedTableInfo | null> {
  const t = await readTable(client, schema, name);
  if (!t) return null;
  const parts = t.relkind === 'p' ? await rows<Partition>(client, 'partitions.sql', [t.oid]) : [];
  for (const p of parts) num(p as unknown as Row, ['oid', 'reltuples', 'tableBytes', 'indexBytes', 'totalBytes']);
  // one read per facet for all partitions, whatever their number
  const oids = parts.map((p) => p.oid);
  const grants = await rowsByRelation<Grant>(client, 'grants.sql', oids);
  const policies = await rowsByRelation<Policy>(client, 'policies.sql', oids);
  const indexes = await rowsByRelation<Index>(client, 'indexes.sql', oids);
  const partitions = parts.map((p) => ({ ...p, grants: grants(p.oid), policies: policies(p.oid), indexes: indexes(p.oid) }));
  return { ...t, partitions };
}

async function readLookupRows(client: pg.ClientBase, cfg: Config, lookup: TableInfo): Promise<LookupRow[]> {
  const hasCreatedAt = lookup.columns.some((c) => c.name === 'created_at');
  const hasLabel = lookup.columns.some((c) => c.name === cfg.lookupLabel);
  if (!lookup.columns.some((c) => c.name === cfg.lookupKey)) return [];
  const values: Record<string, string> = {
    key: ident(cfg.lookupKey),
    label: hasLabel ? ident(cfg.lookupLabel) : 'NULL',
    table: qname(cfg.lookupSchema, cfg.lookup),
    order: hasCreatedAt ? `${ident('created_at')}, ${ident(cfg.lookupKey)}` : ident(cfg.lookupKey),
  };
  const sql = sqlTemplate('catalog/lookup_rows.sql', values);
  const r = await client.query<LookupRow>(sql);
  return r.rows;
}

/** What the catalog shows of each child partwise carries (src/plan/carryChildren.ts). */
async function readChildFacts(client: pg.ClientBase, cfg: Config, source: TableInfo): Promise<ChildFacts[]> {
  const out: ChildFacts[] = [];
  for (const fk of keylessForeignKeys(source, cfg)) {
    const c = childCarry(fk, source, cfg);
    const r = await client.query(sqlFile('catalog/child_facts.sql'), [
      c.child, c.column, `${c.fillFn}()`, c.fillTrigger, qname(cfg.schema, cfg.table), c.syncTrigger, qname(fk.fromSchema, c.index), [...fk.columns, c.column],
    ]);
    const x = r.rows[0];
    out.push({
      constraint: fk.name, schema: fk.fromSchema, table: fk.fromTable, columnExists: x.column_exists, fillFunction: x.fill_function,
      fillTrigger: x.fill_trigger, syncTrigger: x.sync_trigger, index: x.index, covered: x.covered,
    });
  }
  return out;
}

/**
 * One consistent read of everything the planner, check and verify need: a REPEATABLE READ, READ ONLY
 * transaction, with search_path = pg_catalog so every name the server prints is schema-qualified.
 */
export function takeSnapshot(client: pg.ClientBase, cfg: Config): Promise<Snapshot> {
  return withTransaction(client, { isolation: 'repeatable read', readOnly: true, settings: [CATALOG_SEARCH_PATH] }, async () => {
    const server = camel<ServerInfo>((await client.query(sqlFile('catalog/server.sql'))).rows[0] as Row);
    const schemaExists = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [cfg.schema])).rowCount === 1;
    const source = await readTable(client, cfg.schema, cfg.table);
    const lookup = await readTable(client, cfg.lookupSchema, cfg.lookup);
    const lookupRows = lookup ? await readLookupRows(client, cfg, lookup) : [];
    const target = await readPartitioned(client, cfg.schema, cfg.newTable);
    const old = await readTable(client, cfg.schema, cfg.oldTable);
    const privileges = camel<Privileges>(
      (await client.query(sqlFile('catalog/privileges.sql'), [
        source ? qname(cfg.schema, cfg.table) : null,
        cfg.schema,
        lookup ? qname(cfg.lookupSchema, cfg.lookup) : null,
      ])).rows[0] as Row,
    );
    const defaultAclGrantees = (await client.query<{ grantee: string }>(sqlFile('catalog/default_acl.sql'), [cfg.schema])).rows.map((r) => r.grantee);
    const sessionsOnSource = source ? await rows<Blocker>(client, 'long_transactions.sql', [source.oid]) : [];
    const journalExists = (await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'partwise'`)).rowCount === 1;
    const children = source ? await readChildFacts(client, cfg, source) : [];
    return {
      takenAt: new Date().toISOString(),
      server, privileges, schemaExists, source, lookup, lookupRows, target, old, defaultAclGrantees, sessionsOnSource, journalExists, children,
    };
  });
}
