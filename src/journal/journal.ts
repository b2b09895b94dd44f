import type pg from 'pg';
import type { Config } from '../config/config.js';
import { sqlFile } from '../sqlFiles.js';

/** interrupted: a long step stopped at a safe point on a signal or quit (what it committed is kept) */
export type StepStatus = 'running' | 'done' | 'failed' | 'skipped' | 'interrupted';

export interface StepRecord {
  step: string;
  status: StepStatus;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  detail: Record<string, unknown>;
}

/** The journal lives in schema `partwise` of the target database. */
export class Journal {
  private constructor(
    private readonly client: pg.ClientBase,
    readonly migrationId: number,
  ) {}

  static async exists(client: pg.ClientBase): Promise<boolean> {
    const r = await client.query(`SELECT to_regclass('partwise.migration') IS NOT NULL AS ok`);
    return r.rows[0].ok as boolean;
  }

  /** Creates the journal schema if needed and returns this source table's migration. */
  static async open(client: pg.ClientBase, cfg: Config): Promise<Journal> {
    await client.query(sqlFile('journal.sql'));
    const r = await client.query<{ id: string }>(
      `INSERT INTO partwise.migration (source_schema, source_table, new_table, config) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source_schema, source_table) DO UPDATE SET config = EXCLUDED.config, updated_at = now()
       RETURNING id`,
      [cfg.schema, cfg.table, cfg.newTable, JSON.stringify(cfg)],
    );
    return new Journal(client, Number(r.rows[0]!.id));
  }

  /** Read-only access for status and watch: null when nothing was ever journaled for this table. */
  static async find(client: pg.ClientBase, cfg: Config): Promise<Journal | null> {
    if (!(await Journal.exists(client))) return null;
    const r = await client.query<{ id: string }>(`SELECT id FROM partwise.migration WHERE source_schema = $1 AND source_table = $2`, [cfg.schema, cfg.table]);
    return r.rows[0] ? new Journal(client, Number(r.rows[0].id)) : null;
  }

  async start(step: string, detail: Record<string, unknown> = {}): Promise<number> {
    const r = await this.client.query<{ id: string }>(
      `INSERT INTO partwise.step_log (migration_id, step, status, detail) VALUES ($1, $2, 'running', $3) RETURNING id`,
      [this.migrationId, step, JSON.stringify(detail)],
    );
    return Number(r.rows[0]!.id);
  }

  async finish(logId: number, status: Exclude<StepStatus, 'running'>, error?: string, detail?: Record<string, unknown>): Promise<void> {
    await this.client.query(
      `UPDATE partwise.step_log SET status = $2, finished_at = now(), error = $3, detail = detail || $4::jsonb WHERE id = $1`,
      [logId, status, error ?? null, JSON.stringify(detail ?? {})],
    );
  }

  /** Adds to a running step's detail what it learns on the way (migrate: the rows to copy, once counted). */
  async note(logId: number, detail: Record<string, unknown>): Promise<void> {
    await this.client.query(`UPDATE partwise.step_log SET detail = detail || $2::jsonb WHERE id = $1`, [logId, JSON.stringify(detail)]);
  }

  /** The latest record of each step, in the order they were first run. */
  async latest(): Promise<StepRecord[]> {
    const r = await this.client.query(
      `SELECT DISTINCT ON (step) step, status, started_at, finished_at, error, detail, min(id) OVER (PARTITION BY step) AS first_id
         FROM partwise.step_log WHERE migration_id = $1 ORDER BY step, id DESC`,
      [this.migrationId],
    );
    return r.rows
      .sort((a, b) => Number(a.first_id) - Number(b.first_id))
      .map((x) => ({
        step: x.step, status: x.status, startedAt: new Date(x.started_at).toISOString(),
        finishedAt: x.finished_at ? new Date(x.finished_at).toISOString() : null, error: x.error, detail: x.detail,
      }));
  }
}
