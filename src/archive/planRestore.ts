/**
 * What `partwise restore --from PATH` will do, from the manifest and one catalog read: the standalone table (the
 * parent's columns, indexes, RLS, policies and grants, and a CHECK matching the partition bound), the COPY that loads
 * it, then in one short transaction the program's rows moved out of the default partition and the ATTACH. The preview
 * and the run use this same object. RestoreRefused says why it cannot run (nothing is changed then).
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { derivedName } from '../config/names.js';
import { ident, lit, qname } from '../db/quote.js';
import { keyColumn, partitionForKey, securityStatements } from '../plan/planCreate.js';
import type { LockInfo } from '../plan/types.js';
import { maintainTarget } from '../steps/maintain.js';
import { columnList, storedColumns } from './checksum.js';
import type { Manifest } from './manifest.js';
import { archiveRecords, RESTORE_UNFINISHED, type ArchiveRecord } from './records.js';

export class RestoreRefused extends Error {}

export interface RestorePlan {
  manifest: Manifest;
  parent: string;
  partition: { schema: string; name: string };
  /** the standalone table with its data: created and loaded in one transaction */
  create: string[];
  copy: string;
  /** the short transaction: default locked, the program's rows moved, ATTACH, CHECK dropped */
  attach: { statements: string[]; locks: LockInfo[] };
  /** an interrupted restore of this program left the table loaded: only the attach is left */
  loaded: boolean;
  record: ArchiveRecord | null;
  versionNum: number;
}

const who = (m: Manifest) => (m.label !== null ? `${m.label} (${m.key.value})` : m.key.value);

export async function planRestore(client: pg.ClientBase, cfg: Config, manifest: Manifest): Promise<RestorePlan> {
  if (manifest.table.schema !== cfg.schema || manifest.table.name !== cfg.table)
    throw new RestoreRefused(`the archive is of ${manifest.table.schema}.${manifest.table.name}, and partwise works on ${cfg.schema}.${cfg.table} (check --schema and --table)`);
  const t = await maintainTarget(client, cfg);
  if (!t || !t.swapped) throw new RestoreRefused(`${cfg.schema}.${cfg.table} is not the partitioned table partwise made: restore attaches to it after the swap`);
  const { snap, table } = t;
  const key = keyColumn(snap.source!, cfg);
  if (manifest.key.column !== cfg.key || manifest.key.type !== key.type)
    throw new RestoreRefused(`the archive's key is ${manifest.key.column} (${manifest.key.type}), the table's ${cfg.key} (${key.type})`);
  const parentQ = qname(cfg.schema, cfg.table);
  const columns = (await storedColumns(client, parentQ)).map(({ name, type }) => ({ name, type }));
  const differs = JSON.stringify(columns) !== JSON.stringify(manifest.columns);
  if (differs) {
    const was = manifest.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    const now = columns.map((c) => `${c.name} ${c.type}`).join(', ');
    throw new RestoreRefused(`the table's stored columns changed since the archive: it has (${now}), the archive (${was}); bring them back in line first`);
  }
  const record = (await archiveRecords(client, cfg)).find((r) => r.program === manifest.key.value) ?? null;
  const resuming = record !== null && RESTORE_UNFINISHED.includes(record.phase);
  const attached = partitionForKey(table.partitions, key.type, manifest.key.value);
  if (attached) throw new RestoreRefused(`${who(manifest)} already has its partition ${attached.name}: nothing to restore`);
  const name = manifest.partition;
  const exists = (await client.query(`SELECT pg_catalog.to_regclass($1) IS NOT NULL AS e`, [qname(cfg.schema, name)])).rows[0].e as boolean;
  const loaded = resuming && record.phase === 'loaded' && exists;
  if (exists && !loaded)
    throw new RestoreRefused(`a table ${cfg.schema}.${name} already exists${record?.keptTable ? ' (archive --keep-table kept it)' : ''}: drop or rename it first, restore creates the partition under that name`);

  const partQ = qname(cfg.schema, name);
  const check = derivedName(name, 'partwise_restore');
  const keyEq = `${ident(cfg.key)} = ${lit(manifest.key.value)}`;
  const security = securityStatements(snap.source!, partQ, snap.defaultAclGrantees, snap.server.role);
  // FORCE ROW LEVEL SECURITY would subject the load and the move to the policies: forced once the rows are in
  const force = security.filter((s) => s.endsWith(' FORCE ROW LEVEL SECURITY'));
  const cols = columnList(columns.map((c) => c.name));
  const def = table.partitions.find((p) => p.isDefault);
  const defQ = def ? qname(def.schema, def.name) : null;
  const like = `INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING INDEXES${snap.server.versionNum >= 140000 ? ' INCLUDING COMPRESSION' : ''}`;
  return {
    manifest, parent: parentQ, partition: { schema: cfg.schema, name }, record: resuming ? record : null, loaded, versionNum: snap.server.versionNum,
    create: [
      // exactly the parent's columns (ATTACH requires it) with its indexes, so that ATTACH finds them instead of building them under its locks
      `CREATE TABLE ${partQ} (LIKE ${parentQ} ${like})`,
      // proves the partition constraint, so ATTACH does not scan the table under its lock
      `ALTER TABLE ${partQ} ADD CONSTRAINT ${ident(check)} CHECK (${keyEq})`,
      ...security.filter((s) => !force.includes(s)),
    ],
    copy: `COPY ${partQ} (${cols}) FROM STDIN`,
    attach: {
      statements: [
        // the parent first, then the default: the order in which queries on the parent take them
        `LOCK TABLE ${parentQ} IN SHARE UPDATE EXCLUSIVE MODE`,
        ...(defQ ? [
          `LOCK TABLE ONLY ${defQ} IN ACCESS EXCLUSIVE MODE`,
          // the program's rows written since the archive went to the default partition: they move into the partition
          `WITH moved AS (DELETE FROM ONLY ${defQ} WHERE ${keyEq} RETURNING ${cols}) INSERT INTO ${partQ} (${cols}) SELECT ${cols} FROM moved`,
        ] : []),
        `ALTER TABLE ${parentQ} ATTACH PARTITION ${partQ} FOR VALUES IN (${lit(manifest.key.value)})`,
        // the partition constraint says the same now
        `ALTER TABLE ${partQ} DROP CONSTRAINT ${ident(check)}`,
        ...force,
      ],
      locks: [
        { mode: 'SHARE UPDATE EXCLUSIVE', on: parentQ, why: 'attaching a partition (reads and writes of the table go on)' },
        ...(defQ ? [{ mode: 'ACCESS EXCLUSIVE' as const, on: defQ, why: `moving ${who(manifest)}'s new rows out and re-checking the default partition (its size, not the archive's, sets how long)` }] : []),
        { mode: 'ACCESS EXCLUSIVE', on: partQ, why: 'the restored table, not yet in use' },
      ],
    },
  };
}
