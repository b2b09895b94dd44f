import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { takeSnapshot } from '../catalog/snapshot.js';
import { planCreate } from '../plan/planCreate.js';
import { planSwap } from '../plan/planSwap.js';
import { planRollbackBeforeSwap } from '../plan/planRollback.js';
import { captureObjectStatements, captureTriggerStatements } from '../move/capture.js';
import { qname } from '../db/quote.js';
import { partitionSizesSql } from '../monitor/partitionSizes.js';
import { planScript } from '../steps/plan.js';
import { packageRoot, sqlFile } from '../sqlFiles.js';
import type { LockInfo } from '../plan/types.js';
import { sqlComment } from '../text/safe.js';
import type { StepId } from '../screens/steps.js';

const statementsScript = (title: string, statements: string[], locks: LockInfo[] = [], inTransaction = true): string => {
  const head = [sqlComment(title), ...locks.map((l) => sqlComment(`  lock: ${l.mode} on ${l.on} (${l.why})`))];
  const body = statements.map((s) => `${s};`);
  return (inTransaction ? [...head, 'BEGIN;', ...body, 'COMMIT;'] : [...head, ...body]).join('\n');
};

function catalogQueries(): string {
  const dir = join(packageRoot(), 'sql', 'catalog');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => `-- sql/catalog/${f}\n${sqlFile(`catalog/${f}`).trim()}`)
    .join('\n\n');
}

/**
 * The SQL a step will run, as a reviewable script, from the planners (pure functions of a fresh catalog snapshot).
 * Steps whose statements depend on what they find while running (test insert, the copy batches) show the
 * statements they are built from; the runner's log adds what actually ran.
 */
export async function stepSql(client: pg.ClientBase, cfg: Config, step: StepId, swapped: boolean): Promise<string> {
  try {
    switch (step) {
      case 'check':
        return `-- check reads the catalog only (one snapshot), with these queries:\n\n${catalogQueries()}`;
      case 'create':
        return planScript(planCreate(await takeSnapshot(client, cfg), cfg));
      case 'verify':
        return `-- verify reads the catalog (the same queries as check) and compares the new table with the source.\n` +
          `-- verify --data (key d) compares per program, in one REPEATABLE READ snapshot, count(*) and an order-independent\n` +
          `-- checksum of every copied column, on both tables; columns are hashed as text where needed:\n\n${sqlFile('checksum/hashable.sql').trim()}`;
      case 'test-insert':
        return `-- test-insert copies a sample of one program into its partition with an explicit column list\n` +
          `-- (OVERRIDING SYSTEM VALUE for identity columns), runs EXPLAIN (ANALYZE, BUFFERS) of the comparison query on both\n` +
          `-- tables, then deletes the sample. The statements it ran are listed under "Ran" after it finishes.`;
      case 'migrate': {
        const snap = await takeSnapshot(client, cfg);
        return statementsScript('change capture, part 1: the change log and its function (no lock on the table)', captureObjectStatements(snap, cfg, 'forward')) + '\n\n' +
          statementsScript('change capture, part 2: the triggers, installed before the first row is copied', captureTriggerStatements(cfg, 'forward'),
            [{ mode: 'SHARE ROW EXCLUSIVE', on: qname(cfg.schema, cfg.table), why: 'creating triggers; blocks writes for a moment' }]) +
          `\n\n-- then batches: INSERT INTO the new table (explicit columns) SELECT ... FROM ONLY the source over a range of heap\n` +
          `-- blocks, each batch one transaction with its checkpoint in partwise.copy_checkpoint.`;
      }
      case 'swap': {
        if (swapped) return '-- the swap is done: Rollback (R) shows the statements that swap back.';
        const p = planSwap(await takeSnapshot(client, cfg), cfg);
        return statementsScript('swap (one transaction, lock_timeout per attempt, retried with backoff)', p.statements, p.locks) +
          (p.notes.length ? `\n\n${p.notes.map((n) => sqlComment(`note: ${n}`)).join('\n')}` : '');
      }
      case 'rollback': {
        if (swapped) return '-- after the swap, rollback swaps back with the exact reverse of the swap transaction, then replays the writes made since.';
        const p = planRollbackBeforeSwap(await takeSnapshot(client, cfg), cfg);
        return statementsScript('rollback before the swap', p.statements, p.locks);
      }
      case 'monitor':
        return `-- one catalog query per refresh ($1 the source, $2 the new table):\n\n${partitionSizesSql(cfg).trim()}`;
    }
  } catch (e) {
    return sqlComment(`cannot show the SQL yet: ${(e as Error).message}`);
  }
}
