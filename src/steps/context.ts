import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { Emit } from '../events.js';
import type { RetryPolicy } from '../exec/retry.js';

/** What every step gets: one session, the resolved config, where to send events. */
export interface StepContext {
  client: pg.Client;
  /** for steps that need a second session (observers, concurrent work) */
  connection: pg.ClientConfig;
  cfg: Config;
  emit: Emit;
  retry: RetryPolicy;
  /** a transaction-mode pooler found while connecting, if any */
  poolerProblem: string | null;
  /** aborted on SIGINT / SIGTERM / SIGHUP or quit: long steps stop at the next safe point (after the current batch commits) */
  signal?: AbortSignal;
}

export interface StepResult {
  ok: boolean;
  exitCode: number;
  summary: string;
  /** the command to run next (`verify --data`): the CLI says `partwise verify --data`, the app the step's key */
  next?: string;
  data?: unknown;
}
