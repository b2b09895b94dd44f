/**
 * partwise.archive: where each archived or restored program stands (sql/journal.sql). archive and restore write the
 * phase as each part of their work is done; maintain, check and monitor read which programs are archived.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';

/** An archived program as check, monitor and the state show it. */
export interface ArchivedProgram {
  program: string;
  label: string | null;
  path: string;
}

export type ArchivePhase = 'detaching' | 'detached' | 'written' | 'verified' | 'archived' | 'restoring' | 'loaded' | 'restored';

export interface ArchiveRecord {
  program: string;
  label: string | null;
  partition: string;
  path: string;
  phase: ArchivePhase;
  rows: number | null;
  checksum: string | null;
  sha256: string | null;
  keptTable: boolean;
  updatedAt: string;
}

const of = (x: Record<string, unknown>): ArchiveRecord => ({
  program: x.program as string, label: (x.label as string | null) ?? null, partition: x.partition as string, path: x.path as string,
  phase: x.phase as ArchivePhase, rows: x.rows === null ? null : Number(x.rows), checksum: (x.checksum as string | null) ?? null,
  sha256: (x.sha256 as string | null) ?? null, keptTable: x.kept_table as boolean, updatedAt: new Date(x.updated_at as string).toISOString(),
});

/** Every program's archive record for this table; empty when the journal (or its archive table) does not exist. */
export async function archiveRecords(client: pg.ClientBase, cfg: Config): Promise<ArchiveRecord[]> {
  const exists = await client.query(`SELECT to_regclass('partwise.archive') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return [];
  const r = await client.query(
    `SELECT a.* FROM partwise.archive a JOIN partwise.migration m ON m.id = a.migration_id
      WHERE m.source_schema = $1 AND m.source_table = $2 ORDER BY a.updated_at`,
    [cfg.schema, cfg.table],
  );
  return r.rows.map(of);
}

/** The programs whose partition is archived now (their rows are in a file, new rows go to the default partition). */
export async function archivedPrograms(client: pg.ClientBase, cfg: Config): Promise<ArchiveRecord[]> {
  return (await archiveRecords(client, cfg)).filter((r) => r.phase === 'archived');
}

/** Records a phase (and what is known by then); the row is created by the first phase. */
export async function setArchivePhase(
  client: pg.ClientBase, migrationId: number, r: Pick<ArchiveRecord, 'program' | 'label' | 'partition' | 'path' | 'phase'> & Partial<Pick<ArchiveRecord, 'rows' | 'checksum' | 'sha256' | 'keptTable'>>,
): Promise<void> {
  await client.query(
    `INSERT INTO partwise.archive (migration_id, program, label, partition, path, phase, rows, checksum, sha256, kept_table)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, false))
     ON CONFLICT (migration_id, program) DO UPDATE SET label = EXCLUDED.label, partition = EXCLUDED.partition, path = EXCLUDED.path,
       phase = EXCLUDED.phase, rows = coalesce($7, partwise.archive.rows), checksum = coalesce($8, partwise.archive.checksum),
       sha256 = coalesce($9, partwise.archive.sha256), kept_table = coalesce($10, partwise.archive.kept_table), updated_at = now()`,
    [migrationId, r.program, r.label, r.partition, r.path, r.phase, r.rows ?? null, r.checksum ?? null, r.sha256 ?? null, r.keptTable ?? null],
  );
}

/** Phases in which an archive run was interrupted and the next one continues. */
export const ARCHIVE_UNFINISHED: ArchivePhase[] = ['detaching', 'detached', 'written', 'verified'];
export const RESTORE_UNFINISHED: ArchivePhase[] = ['restoring', 'loaded'];
