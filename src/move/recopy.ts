/**
 * Copies whole programs again: after capture was off for a while (src/move/capture.ts, captureIntegrity), the
 * programs whose checksums differ lost writes, and migrate (or, after the swap, rollback) copies each of them anew. One transaction per program
 * holding the capture lock: the program's rows in the copy are replaced by the source's as of that transaction, and
 * every write after it is in the change log, replayed afterwards (as for any copy batch).
 */
import type pg from 'pg';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident } from '../db/quote.js';
import { withTransaction } from '../exec/transaction.js';
import type { Emit } from '../events.js';
import { drainLog, lockCapture } from './capture.js';
import { compareData } from './checksum.js';
import { captureNames, copiedColumns, originalTable, type Direction } from './captureNames.js';

/**
 * Replaces these programs' rows in the table replay fills (the copy before the swap, the original after it) by those
 * of the table the application writes, in one transaction: a row that moved between two of them is deleted before it
 * is inserted again (the original's primary key may not contain the key). How many rows it copied.
 */
export function recopyPrograms(client: pg.ClientBase, snap: Snapshot, cfg: Config, keys: string[], direction: Direction): Promise<number> {
  const keyType = originalTable(snap, direction).columns.find((c) => c.name === cfg.key)!.type;
  const cols = copiedColumns(snap, direction).map((c) => ident(c.name)).join(', ');
  const k = ident(cfg.key);
  const n = captureNames(cfg, direction);
  return withTransaction(client, { settings: [['statement_timeout', '0']] }, async () => {
    await lockCapture(client, cfg, direction);
    await client.query(`DELETE FROM ${n.into} WHERE ${k} = ANY($1::text[]::${keyType}[])`, [keys]);
    const r = await client.query(
      `INSERT INTO ${n.into} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${direction === 'forward' ? 'ONLY ' : ''}${n.on} WHERE ${k} = ANY($1::text[]::${keyType}[])`,
      [keys],
    );
    return r.rowCount ?? 0;
  });
}

/**
 * After capture was off: applies the log, then copies again, whole, every program whose count or checksum differs.
 * Returns the programs copied again (label or key).
 */
export async function recopyDiffering(client: pg.ClientBase, snap: Snapshot, cfg: Config, direction: Direction, emit: Emit): Promise<string[]> {
  const drain = () => drainLog(client, snap, cfg, direction, { limit: 10_000, maxRounds: 100 });
  await drain();
  const c = await compareData(client, snap, cfg, undefined, direction);
  const differing = c.programs.filter((x) => !x.ok && x.key !== null);
  if (differing.length === 0) return [];
  const rows = await recopyPrograms(client, snap, cfg, differing.map((p) => p.key!), direction);
  const names = differing.map((p) => p.label ?? p.key!);
  emit({ type: 'info', message: `${names.join(', ')}: rows differed after capture was off; copied again into ${direction === 'forward' ? cfg.newTable : cfg.oldTable} (${rows} row(s))` });
  await drain();
  return names;
}
