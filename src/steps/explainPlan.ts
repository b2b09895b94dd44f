/**
 * Reading an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) result: time, buffers, and which partitions really ran.
 * With a subquery key (`key = (SELECT ... LIMIT 1)`) pruning happens at execution: every partition is in the plan
 * and the pruned ones show `Actual Loops` = 0 ("never executed"), or are counted in "Subplans Removed" when pruned
 * at executor start-up (docs/behaviours/subquery-key-prunes-at-execution.md). Pure: no I/O.
 */

export interface PlanMeasure {
  executionMs: number;
  planningMs: number;
  sharedHit: number;
  sharedRead: number;
  /** leaf relations of the measured table (1 for a plain table) */
  partitions: number;
  /** relations of the measured table that some plan node read (Actual Loops > 0) */
  scanned: string[];
  /** relations of the measured table whose nodes are all `never executed` */
  neverExecuted: string[];
  /** partitions pruned at executor start-up ("Subplans Removed") */
  subplansRemoved: number;
  /** partitions the planner left out of the plan (pruned at plan time, e.g. with a literal key) */
  prunedAtPlan: number;
}

interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  'Actual Loops'?: number;
  'Subplans Removed'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

export interface ExplainJson {
  Plan: PlanNode;
  'Planning Time'?: number;
  'Execution Time'?: number;
}

/** measured: the relation names (unqualified, as EXPLAIN prints them) that belong to the table being measured. */
export function measurePlan(explain: ExplainJson, measured: string[]): PlanMeasure {
  const mine = new Set(measured);
  const loops = new Map<string, number>();
  let subplansRemoved = 0;
  const walk = (n: PlanNode) => {
    if (n['Subplans Removed']) subplansRemoved += n['Subplans Removed'];
    const rel = n['Relation Name'];
    if (rel !== undefined && mine.has(rel)) loops.set(rel, (loops.get(rel) ?? 0) + (n['Actual Loops'] ?? 0));
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(explain.Plan);
  const scanned = [...loops].filter(([, l]) => l > 0).map(([r]) => r).sort();
  const neverExecuted = [...loops].filter(([, l]) => l === 0).map(([r]) => r).sort();
  return {
    executionMs: explain['Execution Time'] ?? 0,
    planningMs: explain['Planning Time'] ?? 0,
    sharedHit: explain.Plan['Shared Hit Blocks'] ?? 0,
    sharedRead: explain.Plan['Shared Read Blocks'] ?? 0,
    partitions: mine.size,
    scanned,
    neverExecuted,
    subplansRemoved,
    prunedAtPlan: Math.max(0, mine.size - loops.size - subplansRemoved),
  };
}

/** One line for people: time, buffers, partitions. */
export function describeMeasure(m: PlanMeasure): string {
  const parts = `${m.scanned.length} of ${m.partitions} ${m.partitions === 1 ? 'table' : 'partitions'} scanned`;
  const pruned = [
    m.prunedAtPlan ? `${m.prunedAtPlan} pruned at plan time` : '',
    m.subplansRemoved ? `${m.subplansRemoved} removed at start-up` : '',
    m.neverExecuted.length ? `${m.neverExecuted.length} never executed` : '',
  ].filter(Boolean).join(', ');
  return `${m.executionMs.toFixed(2)} ms, buffers ${m.sharedHit} hit / ${m.sharedRead} read, ${parts}${pruned ? ` (${pruned})` : ''}`;
}
