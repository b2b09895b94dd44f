/**
 * The smoke check after a swap (or a rollback): the application's name works for select, insert, update and
 * delete (in a transaction that is rolled back), and every dependent view and function reads the table now
 * behind that name, never the other one.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { Dependent, TableInfo } from '../catalog/types.js';
import { ident, qname } from '../db/quote.js';
import { closingStatement, openingStatements, withTransaction, type TransactionOptions } from '../exec/transaction.js';
import { only, type ScriptStatement } from '../plan/script.js';
import { sqlFile } from '../sqlFiles.js';

export interface SmokeResult {
  ok: boolean;
  passed: string[];
  problems: string[];
}

/**
 * `live` is the table now behind cfg.table, `other` the name it must no longer be read from (old table after a
 * swap, the partitioned copy after a rollback). `dependents` are the views and functions to check.
 */
/** The smoke check's writes through the application's name, each expected to touch one row: [what, statement]. */
function smokeWrites(cfg: Config, live: TableInfo): { keep: string; steps: Array<[string, string]> } {
  const t = qname(cfg.schema, cfg.table);
  const pk = live.constraints.find((c) => c.type === 'p' && !c.inherited)?.columns ?? live.columns.filter((c) => c.generated === '').map((c) => c.name);
  const pkList = pk.map(ident).join(', ');
  const cols = live.columns.filter((c) => c.generated === '').map((c) => ident(c.name)).join(', ');
  const oneRow = `(${pkList}) IN (SELECT ${pkList} FROM ${t} LIMIT 1)`;
  const match = `(${pk.map((c) => `${t}.${ident(c)}`).join(', ')}) IN (SELECT ${pkList} FROM partwise_smoke_row)`;
  return {
    keep: `CREATE TEMPORARY TABLE partwise_smoke_row ON COMMIT DROP AS SELECT ${cols} FROM ${t} WHERE ${oneRow}`,
    steps: [
      ['delete', `DELETE FROM ${t} WHERE ${match}`],
      ['insert', `INSERT INTO ${t} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM partwise_smoke_row`],
      ['update', `UPDATE ${t} SET ${ident(cfg.key)} = ${ident(cfg.key)} WHERE ${match}`],
      ['delete', `DELETE FROM ${t} WHERE ${match}`],
    ],
  };
}

// nothing of the smoke check stays: its transaction is always rolled back
const SMOKE_TRANSACTION: TransactionOptions = { alwaysRollback: true, settings: [['lock_timeout', '2s'], ['statement_timeout', '60s']] };
export const SMOKE_HAS_ROWS = 'the table has rows';

/**
 * What smokeCheck sends, for the previews; `live` is the table that will be behind cfg.table. Its reads (the first
 * select, the dependents' checks) are not listed.
 */
export function smokeStatements(cfg: Config, live: TableInfo): ScriptStatement[] {
  const w = smokeWrites(cfg, live);
  return [...openingStatements(SMOKE_TRANSACTION), ...only(SMOKE_HAS_ROWS, [w.keep, ...w.steps.map(([, sql]) => sql)]), closingStatement(SMOKE_TRANSACTION)];
}

export async function smokeCheck(client: pg.ClientBase, cfg: Config, live: TableInfo, other: string, dependents: Dependent[]): Promise<SmokeResult> {
  const passed: string[] = [];
  const problems: string[] = [];
  const t = qname(cfg.schema, cfg.table);
  const w = smokeWrites(cfg, live);
  try {
    await withTransaction(client, SMOKE_TRANSACTION, async () => {
      const sel = await client.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${t} LIMIT 10) s`);
      passed.push(`select through ${cfg.table}: ${sel.rows[0].n ? 'rows returned' : 'empty table'}`);
      if (sel.rows[0].n > 0) {
        // one row kept aside, deleted, inserted back, updated, deleted: no RETURNING (a conditional INSTEAD rule forbids it)
        await client.query(w.keep);
        for (const [what, sql] of w.steps) {
          const r = await client.query(sql);
          if (r.rowCount === 1) passed.push(`${what} of one row through ${cfg.table}`);
          else problems.push(`${what} through ${cfg.table} affected ${r.rowCount} row(s) instead of 1`);
        }
      }
    });
  } catch (e) {
    problems.push(`writing through ${cfg.table} failed: ${(e as Error).message}`);
  }

  for (const d of dependents) {
    try {
      const r = await client.query(sqlFile('swap/dependent_binding.sql'), [d.kind === 'function' ? 'function' : 'view', d.schema, d.name, t, other]);
      const { reads_new: readsNew, reads_old: readsOld } = r.rows[0] as { reads_new: boolean; reads_old: boolean };
      if (readsNew && !readsOld) passed.push(`${d.kind} ${d.schema}.${d.name} reads ${cfg.table}`);
      else problems.push(`${d.kind} ${d.schema}.${d.name} ${readsOld ? `still reads ${other}` : `does not read ${cfg.table}`}`);
      if (d.kind !== 'function') await client.query(`SELECT 1 FROM ${qname(d.schema, d.name)} LIMIT 1`);
    } catch (e) {
      problems.push(`${d.kind} ${d.schema}.${d.name}: ${(e as Error).message}`);
    }
  }
  return { ok: problems.length === 0, passed, problems };
}
