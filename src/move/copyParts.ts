/**
 * Parts: a scope's remaining block range cut into block ranges, each with its own checkpoint row
 * ('part:<first block>:<scope id>'), so that several workers copy one large program (or the whole table) at once.
 * The scope's own row then stands at its end (next_block = end_block) but stays not done until every part is done;
 * finishParts marks it done and removes the parts. A rewrite of the source restarts the whole scope (copyBatch: its
 * parts are deleted and it is split again). Parts made by one run are reused by the next whatever its worker count.
 */
import type pg from 'pg';
import { withTransaction } from '../exec/transaction.js';
import { checkpointId, PARTS_OF, type CopyTarget, type Scope } from './copy.js';


/** A part's first block from its checkpoint row id. */
const partStart = (id: string): number => Number(id.split(':')[1]);

/**
 * The scope's parts still to copy: those a previous run made, else `parts` new ones over the scope's remaining blocks
 * (at least `minBlocks` each). Empty when the scope is not split (one part would do, or it is done): it is walked
 * on its own row then. Call after startScope.
 */
export async function splitScope(client: pg.ClientBase, t: CopyTarget, scope: Scope, parts: number, minBlocks: number): Promise<Scope[]> {
  return withTransaction(client, {}, async () => {
    const row = (await client.query(`SELECT next_block, end_block, filenode, done FROM partwise.copy_checkpoint WHERE migration_id = $1 AND scope = $2 FOR UPDATE`, [t.migrationId, scope.id])).rows[0];
    if (!row || row.done) return [];
    const existing = await client.query<{ scope: string; done: boolean }>(`SELECT scope, done FROM partwise.copy_checkpoint WHERE ${PARTS_OF} ORDER BY next_block`, [t.migrationId, scope.id]);
    if (existing.rows.length) return existing.rows.filter((r) => !r.done).map((r) => ({ ...scope, part: partStart(r.scope) }));
    const from = Number(row.next_block);
    const end = Number(row.end_block);
    const n = Math.min(parts, Math.floor((end - from) / Math.max(1, minBlocks)));
    if (n < 2) return [];
    const size = Math.ceil((end - from) / n);
    const made: Scope[] = [];
    for (let a = from; a < end; a += size) {
      const part: Scope = { ...scope, part: a };
      await client.query(
        `INSERT INTO partwise.copy_checkpoint (migration_id, scope, filenode, end_block, next_block) VALUES ($1, $2, $3, $4, $5)`,
        [t.migrationId, checkpointId(part), row.filenode, Math.min(end, a + size), a],
      );
      made.push(part);
    }
    // the scope's own walk ends here: the rest of its blocks belong to the parts
    await client.query(`UPDATE partwise.copy_checkpoint SET next_block = end_block, updated_at = now() WHERE migration_id = $1 AND scope = $2`, [t.migrationId, scope.id]);
    return made;
  });
}

/**
 * After the workers stopped: a split scope whose parts are all done (on the scope's file) is done, and its parts go.
 * Returns whether the scope is done.
 */
export async function finishParts(client: pg.ClientBase, t: CopyTarget, scope: Scope): Promise<boolean> {
  return withTransaction(client, {}, async () => {
    const row = (await client.query(`SELECT next_block, end_block, filenode, done FROM partwise.copy_checkpoint WHERE migration_id = $1 AND scope = $2 FOR UPDATE`, [t.migrationId, scope.id])).rows[0];
    if (!row) return false;
    if (row.done) return true;
    const parts = await client.query<{ done: boolean; filenode: string; copied: string }>(`SELECT done, filenode, copied FROM partwise.copy_checkpoint WHERE ${PARTS_OF}`, [t.migrationId, scope.id]);
    const walked = Number(row.next_block) >= Number(row.end_block);
    if (!walked || !parts.rows.length || !parts.rows.every((p) => p.done && Number(p.filenode) === Number(row.filenode))) return false;
    await client.query(
      `UPDATE partwise.copy_checkpoint SET done = true, copied = copied + $3, updated_at = now() WHERE migration_id = $1 AND scope = $2`,
      [t.migrationId, scope.id, parts.rows.reduce((n, p) => n + Number(p.copied), 0)],
    );
    await client.query(`DELETE FROM partwise.copy_checkpoint WHERE ${PARTS_OF}`, [t.migrationId, scope.id]);
    return true;
  });
}
