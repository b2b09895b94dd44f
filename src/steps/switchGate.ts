/**
 * The last checks of the swap and of the rollback, run inside their transaction after the locks are taken, before
 * anything changes (src/steps/switchTables.ts). Under SHARE UPDATE EXCLUSIVE on the live table and ACCESS EXCLUSIVE on
 * the other, no ALTER TABLE, index, trigger (also no DISABLE / ENABLE TRIGGER), policy or publication change can reach
 * either table any more, so the structure the gate sees is the one the switch moves, and every write from now on is
 * captured. A problem throws SwitchRefused: the transaction rolls back and nothing has changed.
 */
import type pg from 'pg';
import { readTable } from '../catalog/snapshot.js';
import type { Column, TableInfo } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { columnDefinition, ident, qname } from '../plan/ddl.js';
import { captureIntegrity } from '../move/capture.js';
import { structureChanges, structureFingerprint, type StructureFingerprint } from '../move/structure.js';
import { REPAIR } from './verifyData.js';
import { childName, mismatchCountSql, type ChildCarry } from '../plan/carryChildren.js';

export class SwitchRefused extends Error {
  constructor(readonly problems: string[], readonly repair: string) {
    super(`${problems.join('; ')}. ${repair}`);
    this.name = 'SwitchRefused';
  }
}

/**
 * Why the copy may differ from the source, comparing the source and the copy now with what the latest verify --data
 * saw (`verified`) and with what the swap was planned from (`planned`). Reads the catalog: run it under the locks.
 */
export async function swapProblems(client: pg.ClientBase, cfg: Config, verified: StructureFingerprint | null, planned: StructureFingerprint): Promise<string[]> {
  const problems = await captureIntegrity(client, cfg, 'forward');
  // the copy's parent only (its partitions are not part of the fingerprint): the fewer reads under the locks the better
  const source = await readTable(client, cfg.schema, cfg.table);
  const copy = await readTable(client, cfg.schema, cfg.newTable);
  if (!source || !copy) return [...problems, `${!source ? cfg.table : cfg.newTable} is missing`];
  const now = structureFingerprint(source, copy);
  const names = { source: `${cfg.schema}.${cfg.table}`, copy: `${cfg.schema}.${cfg.newTable}` };
  if (!verified) problems.push('the latest verify --data recorded no structure to compare with (an older partwise ran it)');
  else problems.push(...structureChanges(verified, now, names).map((d) => `${d} since the latest verify --data`));
  if (problems.length === 0) {
    // the plan was made from a catalog read before the locks: it must describe these tables exactly
    const moved = structureChanges(planned, now, names);
    if (moved.length) problems.push(...moved.map((d) => `${d} while the swap was being prepared (run partwise swap again)`));
  }
  return problems;
}

/**
 * The carried children (src/plan/carryChildren.ts) whose key column is missing or differs from their parent's for some
 * row: the new foreign key, added NOT VALID, could not be validated (and a NULL key would escape it).
 */
export async function childKeyProblems(client: pg.ClientBase, cfg: Config, children: ChildCarry[]): Promise<string[]> {
  const problems: string[] = [];
  for (const c of children) {
    const n = Number((await client.query(mismatchCountSql(c, qname(cfg.schema, cfg.table)))).rows[0].n);
    if (n > 0)
      problems.push(`${n} row(s) of ${childName(c)} have no ${c.column} or another one than the ${cfg.table} row they reference: run partwise migrate (its back-fill sets them), verify --data, then swap`);
  }
  return problems;
}

/** The swap's gate, for switchTables. */
export function swapGate(cfg: Config, verified: StructureFingerprint | null, planned: StructureFingerprint, children: ChildCarry[] = []) {
  return async (client: pg.ClientBase): Promise<void> => {
    const problems = await swapProblems(client, cfg, verified, planned);
    if (problems.length === 0) problems.push(...(await childKeyProblems(client, cfg, children)));
    if (problems.length) throw new SwitchRefused(problems, `To repair: ${REPAIR}, then partwise swap`);
  };
}

const shape = (c: Column) => JSON.stringify([c.type, c.collation]);

/**
 * What the reverse replay (rows copied from the partitioned table into the original, by the columns both have) would
 * get wrong: a column of the original the partitioned table lacks would be written NULL (or its default), a column
 * only the partitioned table has would lose its values, a column of another type would be converted. Pure.
 */
export function reverseColumnProblems(original: TableInfo, live: TableInfo, cfg: Config): string[] {
  const O = qname(cfg.schema, cfg.oldTable);
  const S = qname(cfg.schema, cfg.table);
  const stored = (t: TableInfo) => t.columns.filter((c) => c.generated === '');
  const problems: string[] = [];
  for (const c of stored(original)) {
    const l = live.columns.find((x) => x.name === c.name);
    if (!l || l.generated !== '')
      problems.push(`column ${c.name} of ${cfg.oldTable} is missing on ${cfg.table} (dropped after the swap?): copying rows back would write NULL or its default over it. ` +
        `Add it back (ALTER TABLE ${S} ADD COLUMN ${columnDefinition({ ...c, notNull: false, identity: '' })}) or, to give up its values, drop it from the original (ALTER TABLE ${O} DROP COLUMN ${ident(c.name)})`);
    else if (shape(l) !== shape(c))
      problems.push(`column ${c.name} is ${l.type} on ${cfg.table} but ${c.type} on ${cfg.oldTable}: copying rows back would convert its values. Give both the same type (ALTER TABLE ${O} ALTER COLUMN ${ident(c.name)} TYPE ${l.type})`);
  }
  for (const l of stored(live).filter((x) => !original.columns.some((c) => c.name === x.name)))
    problems.push(`column ${l.name} of ${cfg.table} (added after the swap) is missing on ${cfg.oldTable}: its values would be lost. Add it (ALTER TABLE ${O} ADD COLUMN ${columnDefinition({ ...l, notNull: false, identity: '' })})`);
  return problems;
}

/** The rollback's gate, for switchTables: reverse capture never stopped, and the columns still match. */
export function rollbackGate(cfg: Config) {
  return async (client: pg.ClientBase): Promise<void> => {
    const problems = await captureIntegrity(client, cfg, 'reverse');
    const original = await readTable(client, cfg.schema, cfg.oldTable);
    const live = await readTable(client, cfg.schema, cfg.table);
    if (!original || !live) problems.push(`${!original ? cfg.oldTable : cfg.table} is missing`);
    else problems.push(...reverseColumnProblems(original, live, cfg));
    if (problems.length) throw new SwitchRefused(problems, 'Then run partwise rollback again');
  };
}
