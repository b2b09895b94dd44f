/**
 * What `partwise archive` will do for one program, from one catalog read: which partition, how it is detached and
 * why, the COPY that writes it, the DROP. The preview (SQL pane, plan) and the run use this same object.
 */
import { isAbsolute, resolve } from 'node:path';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { qname } from '../db/quote.js';
import { matchProgram } from '../move/programs.js';
import { keyColumn, partitionForKey } from '../plan/planCreate.js';
import type { LockInfo } from '../plan/types.js';
import { maintainTarget } from '../steps/maintain.js';
import { columnList, storedColumns } from './checksum.js';
import { archiveRecords, ARCHIVE_UNFINISHED, type ArchiveRecord } from './records.js';

export interface ArchivePlan {
  parent: { schema: string; name: string };
  key: string;
  keyType: string;
  label: string | null;
  partition: { schema: string; name: string };
  /** where the partition is now: attached, left half-detached by an interrupted DETACH CONCURRENTLY, or a table of its own */
  state: 'attached' | 'detach-pending' | 'detached';
  defaultPartition: { schema: string; name: string } | null;
  detach: { concurrently: boolean; statement: string; why: string; locks: LockInfo[] };
  columns: Array<{ name: string; type: string }>;
  copy: string;
  drop: string;
  path: string;
  /** an earlier run of this program's archive that did not finish */
  resumes: ArchiveRecord | null;
  server: { version: string; versionNum: number };
}

export class ArchiveRefused extends Error {}

export const absolutePath = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));

async function relationState(client: pg.ClientBase, schema: string, name: string, parentOid: number): Promise<ArchivePlan['state'] | null> {
  const r = await client.query<{ relkind: string; parent: string | null; pending: boolean | null }>(
    `SELECT c.relkind::text AS relkind, i.inhparent::int8 AS parent, ${'i.inhdetachpending'} AS pending
       FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid
      WHERE c.oid = pg_catalog.to_regclass($1)`,
    [qname(schema, name)],
  );
  const x = r.rows[0];
  if (!x) return null;
  if (x.parent !== null && Number(x.parent) === parentOid) return x.pending ? 'detach-pending' : 'attached';
  if (x.parent === null && x.relkind === 'r') return 'detached';
  throw new ArchiveRefused(`${qname(schema, name)} is neither a partition of the table nor a table of its own: partwise leaves it alone`);
}

/** The plan for `--program wanted --to path`; ArchiveRefused says why there is none (nothing is changed then). */
export async function planArchive(client: pg.ClientBase, cfg: Config, wanted: string, to: string | undefined): Promise<ArchivePlan> {
  const t = await maintainTarget(client, cfg);
  if (!t || !t.swapped) throw new ArchiveRefused(`${cfg.schema}.${cfg.table} is not partitioned yet: archive works on the partitioned table after the swap`);
  const { snap, table } = t;
  const match = matchProgram(snap.lookupRows, wanted, (r) => r.key, (r) => r.label);
  if (typeof match === 'string') throw new ArchiveRefused(match);
  const keyType = keyColumn(snap.source!, cfg).type;
  const records = await archiveRecords(client, cfg);
  const record = records.find((r) => r.program === match.key) ?? null;
  const who = match.label !== null ? `${match.label} (${match.key})` : match.key;
  if (record?.phase === 'archived') throw new ArchiveRefused(`${who} is already archived to ${record.path}${record.keptTable ? ` (the table ${record.partition} was kept)` : ''}`);
  if (record && (record.phase === 'restoring' || record.phase === 'loaded'))
    throw new ArchiveRefused(`a restore of ${who} from ${record.path} was interrupted: run partwise restore --from ${record.path} --yes to finish it first`);
  const resumes = record && ARCHIVE_UNFINISHED.includes(record.phase) ? record : null;

  let partition: { schema: string; name: string };
  let state: ArchivePlan['state'];
  const attached = partitionForKey(table.partitions, keyType, match.key);
  if (attached) {
    partition = { schema: attached.schema, name: attached.name };
    if (attached.relkind !== 'r') throw new ArchiveRefused(`the partition ${attached.name} of ${who} is itself partitioned or foreign: archive copies plain partitions only`);
    state = (await relationState(client, attached.schema, attached.name, table.oid)) ?? 'attached';
  } else if (resumes) {
    partition = { schema: cfg.schema, name: resumes.partition };
    const s = await relationState(client, cfg.schema, resumes.partition, table.oid);
    if (!s) throw new ArchiveRefused(`the archive of ${who} was interrupted after ${resumes.phase}, but ${resumes.partition} no longer exists: nothing is left to archive (its rows are in ${resumes.path} if that run verified it)`);
    state = s;
  } else {
    throw new ArchiveRefused(`${who} has no partition of its own in ${cfg.schema}.${cfg.table}: nothing to archive`);
  }
  const path = absolutePath(resumes && !to ? resumes.path : to ?? '');
  if (!to && !resumes) throw new ArchiveRefused('--to PATH is required: where the archive file is written');

  const parentQ = qname(cfg.schema, cfg.table);
  const partQ = qname(partition.schema, partition.name);
  const def = table.partitions.find((p) => p.isDefault);
  const defaultPartition = def ? { schema: def.schema, name: def.name } : null;
  const concurrently = defaultPartition === null;
  const detach = state === 'detach-pending'
    ? {
        concurrently: true, statement: `ALTER TABLE ${parentQ} DETACH PARTITION ${partQ} FINALIZE`,
        why: 'an earlier DETACH ... CONCURRENTLY was interrupted half-way: FINALIZE completes it',
        locks: [{ mode: 'SHARE UPDATE EXCLUSIVE' as const, on: parentQ, why: 'completing the detach (reads and writes go on)' }],
      }
    : concurrently
      ? {
          concurrently, statement: `ALTER TABLE ${parentQ} DETACH PARTITION ${partQ} CONCURRENTLY`,
          why: 'the table has no default partition, so DETACH ... CONCURRENTLY can run: it waits for the queries that use the partition to end, without blocking reads and writes of the table',
          locks: [
            { mode: 'SHARE UPDATE EXCLUSIVE' as const, on: parentQ, why: 'detaching concurrently (reads and writes go on)' },
            { mode: 'ACCESS EXCLUSIVE' as const, on: partQ, why: 'leaving the table, after the queries that use it ended' },
          ],
        }
      : {
          concurrently, statement: `ALTER TABLE ${parentQ} DETACH PARTITION ${partQ}`,
          why: `the table has a default partition (${defaultPartition.name}), and PostgreSQL refuses DETACH ... CONCURRENTLY then ("cannot detach partitions concurrently when a default partition exists", docs/behaviours/detach-concurrently-refused-with-default-partition.md): a plain DETACH, a catalog change of an instant, under lock_timeout and retried; the sessions in its way are named`,
          locks: [
            { mode: 'ACCESS EXCLUSIVE' as const, on: parentQ, why: 'detaching (an instant: no row is read)' },
            { mode: 'ACCESS EXCLUSIVE' as const, on: partQ, why: 'leaving the table' },
            { mode: 'ACCESS EXCLUSIVE' as const, on: qname(defaultPartition.schema, defaultPartition.name), why: 'its partition constraint widens to take the program\'s new rows' },
          ],
        };
  const columns = (await storedColumns(client, partQ)).map(({ name, type }) => ({ name, type }));
  return {
    parent: { schema: cfg.schema, name: cfg.table }, key: match.key, keyType, label: match.label, partition, state, defaultPartition, detach,
    columns, copy: `COPY ${partQ} (${columnList(columns.map((c) => c.name))}) TO STDOUT`, drop: `DROP TABLE ${partQ}`, path, resumes,
    server: { version: snap.server.version, versionNum: snap.server.versionNum },
  };
}
