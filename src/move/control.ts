import type pg from 'pg';
import type { Config } from '../config/config.js';
import { Journal } from '../journal/journal.js';

/** The live controls of a migration: read by the copy loop between batches, set from any terminal. */
export interface Controls {
  paused: boolean;
  batchSize: number;
  /** rows per second, null for no limit */
  maxRate: number | null;
  sleepMs: number;
}

// 50,000 rows: a batch of a few hundred ms; with 10,000 the per-batch overhead cost about a tenth of the copy's speed
export const DEFAULT_CONTROLS: Controls = { paused: false, batchSize: 50_000, maxRate: null, sleepMs: 0 };

async function migrationId(client: pg.ClientBase, cfg: Config): Promise<number> {
  return (await Journal.open(client, cfg)).migrationId;
}

export async function readControls(client: pg.ClientBase, cfg: Config): Promise<Controls> {
  // read between every batch: a plain lookup, without re-running the journal's DDL
  const exists = await client.query(`SELECT to_regclass('partwise.control') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return { ...DEFAULT_CONTROLS };
  const r = await client.query(
    `SELECT c.paused, c.batch_size, c.max_rate, c.sleep_ms FROM partwise.control c JOIN partwise.migration m ON m.id = c.migration_id
      WHERE m.source_schema = $1 AND m.source_table = $2`,
    [cfg.schema, cfg.table],
  );
  const row = r.rows[0];
  return row ? { paused: row.paused, batchSize: row.batch_size, maxRate: row.max_rate, sleepMs: row.sleep_ms } : { ...DEFAULT_CONTROLS };
}

/** Changes some controls; the others keep their values. Returns the controls now in force. */
export async function setControls(client: pg.ClientBase, cfg: Config, change: Partial<Controls>): Promise<Controls> {
  const id = await migrationId(client, cfg);
  const next = { ...(await readControls(client, cfg)), ...change };
  await client.query(
    `INSERT INTO partwise.control (migration_id, paused, batch_size, max_rate, sleep_ms) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (migration_id) DO UPDATE SET paused = $2, batch_size = $3, max_rate = $4, sleep_ms = $5, updated_at = now()`,
    [id, next.paused, next.batchSize, next.maxRate, next.sleepMs],
  );
  return next;
}
