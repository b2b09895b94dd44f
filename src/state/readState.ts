import type pg from 'pg';
import type { Config } from '../config/config.js';
import { readMigrationFacts } from './facts.js';
import { migrationState, type LocalFacts, type MigrationState } from './migrationState.js';

/** Where the migration stands now, read from the journal and the catalog (see migrationState). */
export async function readMigrationState(client: pg.ClientBase, cfg: Config, opts: { local?: LocalFacts; backlog?: boolean } = {}): Promise<MigrationState> {
  return migrationState(await readMigrationFacts(client, cfg, { backlog: opts.backlog }), opts.local);
}
