/**
 * Rollback before the swap: everything partwise added goes, the source stays exactly as it was. Pure.
 * (After the swap, rollback runs the reverse that planSwap produced, journaled by the swap itself.)
 */
import type { Config } from '../config/config.js';
import type { Snapshot } from '../catalog/types.js';
import { captureRemovalStatements } from '../move/capture.js';
import { ident, qname } from './ddl.js';
import { autoPartitionNames } from './planCreate.js';
import { childCarry, childRemovalStatements, keylessForeignKeys } from './carryChildren.js';
import type { LockInfo } from './types.js';

export interface RollbackPlan {
  statements: string[];
  locks: LockInfo[];
}

export function planRollbackBeforeSwap(snap: Snapshot, cfg: Config): RollbackPlan {
  const lookup = qname(cfg.lookupSchema, cfg.lookup);
  const { fn, trigger } = autoPartitionNames(cfg);
  const statements: string[] = [];
  const locks: LockInfo[] = [];
  // capture first: its trigger on the source writes into the log, never into the new table
  statements.push(...captureRemovalStatements(cfg, 'forward'));
  locks.push({ mode: 'ACCESS EXCLUSIVE', on: qname(cfg.schema, cfg.table), why: 'dropping the capture trigger (a moment)' });
  if (snap.lookup) {
    statements.push(`DROP TRIGGER IF EXISTS ${ident(trigger)} ON ${lookup}`);
    locks.push({ mode: 'ACCESS EXCLUSIVE', on: lookup, why: 'dropping the auto-partition trigger (a moment)' });
  }
  statements.push(`DROP FUNCTION IF EXISTS partwise.${ident(fn)}()`);
  // the children partwise carried (src/plan/carryChildren.ts): their column, triggers, functions and index go, and
  // the source's key-following trigger. A column is dropped only where partwise added it (its fill function exists)
  for (const f of snap.source ? keylessForeignKeys(snap.source, cfg) : []) {
    const facts = snap.children.find((x) => x.schema === f.fromSchema && x.table === f.fromTable && x.constraint === f.name);
    if (!facts || !(facts.fillFunction || facts.fillTrigger || facts.syncTrigger || facts.index)) continue;
    const c = childCarry(f, snap.source!, cfg);
    statements.push(...childRemovalStatements(c, cfg, facts.fillFunction));
    locks.push({ mode: 'ACCESS EXCLUSIVE', on: c.child, why: `dropping ${cfg.key}, the fill trigger and the index partwise added (catalog only: a moment)` });
  }
  // no CASCADE: anything someone built on the new table stops the rollback instead of vanishing with it
  if (snap.target) {
    statements.push(`DROP TABLE ${qname(cfg.schema, cfg.newTable)}`);
    locks.push({ mode: 'ACCESS EXCLUSIVE', on: qname(cfg.schema, cfg.newTable), why: 'dropped with its partitions' });
  }
  return { statements, locks };
}
