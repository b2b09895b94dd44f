import type { Config } from '../config/config.js';
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Column, Grant, Policy, Snapshot } from '../catalog/types.js';
import type { CheckItem } from '../events.js';
import { EXIT } from '../events.js';
import { columnDefinition, ident, qname } from '../plan/ddl.js';
import { expectedListBound } from '../plan/listBound.js';
import { newIndexName, ownerStatement, partitionForKey, withKey } from '../plan/planCreate.js';
import { Journal } from '../journal/journal.js';
import type { StepContext, StepResult } from './context.js';

const item = (id: string, ok: boolean, title: string, reason: string, todo?: string, details?: string[]): CheckItem => ({
  id, status: ok ? 'ok' : 'fail', title, reason, ...(todo ? { todo } : {}), ...(details?.length ? { details } : {}),
});

const grantKey = (g: Grant) => `${g.grantee} ${g.privilege}${g.grantable ? ' WITH GRANT OPTION' : ''}${g.columnName ? ` (${g.columnName})` : ''}`;
const policyKey = (p: Policy) => JSON.stringify([p.name, p.cmd, p.permissive, p.roles, p.usingExpr, p.checkExpr]);

function setDiff(expected: string[], actual: string[]): { missing: string[]; extra: string[] } {
  const a = new Set(actual);
  const e = new Set(expected);
  return { missing: [...e].filter((x) => !a.has(x)), extra: [...a].filter((x) => !e.has(x)) };
}

/** How a column must look on the new table: as on the source, except the key that the primary key makes NOT NULL. */
function columnShape(c: Column, key: string, keyForcedNotNull: boolean): string {
  return JSON.stringify([c.type, c.collation, c.identity, c.generated, c.generationExpr, c.identity ? null : c.defaultExpr, c.notNull || (c.name === key && keyForcedNotNull)]);
}

/**
 * Compares the partitioned copy with the source and the lookup table. Pure: reads only the snapshot.
 * Schema drift (a column added to the source after create) comes with the statement that fixes it.
 */
export function verifyStructure(snap: Snapshot, cfg: Config): CheckItem[] {
  const src = snap.source;
  const tgt = snap.target;
  if (!src) return [item('source', false, 'Source table', `${cfg.schema}.${cfg.table} does not exist`)];
  if (!tgt) return [item('target', false, 'Partitioned table', `${cfg.schema}.${cfg.newTable} does not exist`, 'run partwise create')];
  const items: CheckItem[] = [];
  const parent = qname(cfg.schema, cfg.newTable);
  const keyCol = src.columns.find((c) => c.name === cfg.key);
  // the server prints the key quoted only when it must be
  const listOnKey = [`LIST (${ident(cfg.key)})`, `LIST (${cfg.key})`].includes(tgt.partitionKey ?? '');
  items.push(item('partitioned', tgt.relkind === 'p' && listOnKey, 'Partitioned by LIST on the key',
    `${cfg.newTable}: ${tgt.partitionKey ?? 'not partitioned'}`));

  // partitions: one per lookup row plus default, found by bound
  const missing = snap.lookupRows.filter((r) => !partitionForKey(tgt.partitions, keyCol?.type ?? 'text', r.key));
  const expectedBounds = new Set(snap.lookupRows.map((r) => expectedListBound(keyCol?.type ?? 'text', r.key)));
  const extra = tgt.partitions.filter((p) => !p.isDefault && !expectedBounds.has(p.bound));
  const hasDefault = tgt.partitions.some((p) => p.isDefault);
  items.push(item('partitions', missing.length === 0 && hasDefault, 'Partitions',
    `${tgt.partitions.length} partition(s) for ${snap.lookupRows.length} lookup row(s)${hasDefault ? ' plus default' : ', no default partition'}` +
      (missing.length ? `; ${missing.length} lookup row(s) have no partition` : '') + (extra.length ? `; ${extra.length} partition(s) for keys not in the lookup table` : ''),
    missing.length || !hasDefault ? 'run partwise create (it adds what is missing) or partwise maintain' : undefined,
    [...missing.map((r) => `missing: ${r.label ?? ''} (${r.key})`), ...extra.map((p) => `extra: ${p.name} ${p.bound}`)]));

  // columns, with drift fixes
  const forced = src.constraints.some((c) => c.type === 'p');
  const colIssues: string[] = [];
  const fixes: string[] = [];
  for (const c of src.columns) {
    const t = tgt.columns.find((x) => x.name === c.name);
    if (!t) {
      colIssues.push(`column ${c.name} exists on the source only (added after create)`);
      fixes.push(`ALTER TABLE ${parent} ADD COLUMN ${columnDefinition(c)}`);
    } else if (columnShape(c, cfg.key, forced) !== columnShape(t, cfg.key, false)) {
      colIssues.push(`column ${c.name}: source ${columnDefinition(c)} / new ${columnDefinition(t)}`);
    }
  }
  for (const t of tgt.columns.filter((x) => !src.columns.some((c) => c.name === x.name))) {
    colIssues.push(`column ${t.name} exists on the new table only`);
    fixes.push(`ALTER TABLE ${parent} DROP COLUMN ${ident(t.name)}`);
  }
  items.push(item('columns', colIssues.length === 0, 'Columns', colIssues.length ? `${colIssues.length} difference(s): schema drift` : `${src.columns.length} identical column(s)`,
    fixes.length ? `run: ${fixes.join('; ')}` : colIssues.length ? 'recreate the new table (partwise rollback, then create)' : undefined, colIssues));

  // constraints
  const cIssues: string[] = [];
  const tgtCons = tgt.constraints.filter((c) => !c.inherited);
  for (const c of src.constraints.filter((x) => !x.inherited)) {
    if (c.type === 'p') {
      const want = withKey(c.columns, cfg.key).join(',');
      if (!tgtCons.some((t) => t.type === 'p' && t.columns.join(',') === want)) cIssues.push(`primary key (${want}) missing`);
    } else if (c.type === 'u') {
      // a constraint of its own with the name the swap gives back, even when it equals the primary key
      const want = withKey(c.columns, cfg.key).join(',');
      const name = newIndexName(cfg.table, cfg.newTable, c.indexName ?? c.name);
      if (!tgtCons.some((t) => t.type === 'u' && t.name === name && t.columns.join(',') === want)) cIssues.push(`unique ${name} (${want}) for ${c.name} missing`);
    } else if (c.type === 'x') {
      cIssues.push(`exclusion constraint ${c.name} cannot exist on the partitioned table (partwise check says what to do)`);
    } else if (c.type === 'c' && !c.noInherit) {
      if (!tgtCons.some((t) => t.type === 'c' && t.name === c.name && t.def === c.def)) cIssues.push(`check ${c.name} missing or different`);
    } else if (c.type === 'f') {
      const def = c.def.replace(/ NOT VALID$/, '');
      if (!tgtCons.some((t) => t.type === 'f' && t.name === c.name && t.def === def)) cIssues.push(`foreign key ${c.name} missing or different`);
    }
  }
  items.push(item('constraints', cIssues.length === 0, 'Constraints', cIssues.length ? cIssues.join('; ') : 'primary key, unique, check and foreign keys match'));

  // indexes on the parent, and attached on every partition
  const iIssues: string[] = [];
  for (const ix of src.indexes.filter((i) => !i.backsConstraint && i.isValid)) {
    const name = newIndexName(cfg.table, cfg.newTable, ix.name);
    if (!tgt.indexes.some((t) => t.name === name)) iIssues.push(`index ${name} (for ${ix.name}) missing`);
  }
  for (const ix of tgt.indexes) {
    if (ix.attachedChildren !== tgt.partitions.length) iIssues.push(`index ${ix.name} is on ${ix.attachedChildren} of ${tgt.partitions.length} partitions`);
  }
  for (const p of tgt.partitions) {
    if (p.indexes.length < tgt.indexes.length) iIssues.push(`partition ${p.name} has ${p.indexes.length} of ${tgt.indexes.length} indexes`);
  }
  items.push(item('indexes', iIssues.length === 0, 'Indexes', iIssues.length ? `${iIssues.length} problem(s)` : `${tgt.indexes.length} index(es), on every partition`, undefined, iIssues));

  // RLS, policies and grants: parent and every partition
  const sIssues: string[] = [];
  const wantPolicies = src.policies.map(policyKey);
  const wantGrants = src.grants.map(grantKey);
  const tables = [{ name: cfg.newTable, rls: tgt.rls, forced: tgt.rlsForced, policies: tgt.policies, grants: tgt.grants }, ...tgt.partitions.map((p) => ({ name: p.name, rls: p.rls, forced: p.rlsForced, policies: p.policies, grants: p.grants }))];
  for (const t of tables) {
    if (src.rls && !t.rls) sIssues.push(`${t.name}: row level security is off`);
    if (src.rlsForced && !t.forced) sIssues.push(`${t.name}: row level security is not forced`);
    const pd = setDiff(wantPolicies, t.policies.map(policyKey));
    if (pd.missing.length || pd.extra.length) sIssues.push(`${t.name}: policies differ (${pd.missing.length} missing, ${pd.extra.length} extra)`);
    const gd = setDiff(wantGrants, t.grants.map(grantKey));
    if (gd.missing.length) sIssues.push(`${t.name}: grants missing: ${gd.missing.join(', ')}`);
    if (gd.extra.length) sIssues.push(`${t.name}: grants not on the source: ${gd.extra.join(', ')}`);
  }
  // the owner: of the parent and of every partition (ALTER TABLE ... OWNER TO does not reach them)
  const wrongOwner = [{ q: parent, name: cfg.newTable, owner: tgt.owner }, ...tgt.partitions.map((p) => ({ q: qname(p.schema, p.name), name: p.name, owner: p.owner }))]
    .filter((t) => t.owner !== src.owner);
  items.push(item('owner', wrongOwner.length === 0, 'Owner', wrongOwner.length ? `${wrongOwner.length} table(s) not owned by ${src.owner}, the source's owner` : `${src.owner} owns the parent and ${tgt.partitions.length} partition(s)`,
    wrongOwner.length ? `run: ${wrongOwner.map((t) => ownerStatement(t.q, src.owner)).join('; ')} (the swap would do it too)` : undefined,
    wrongOwner.map((t) => `${t.name}: owned by ${t.owner}`)));

  items.push(item('security', sIssues.length === 0, 'RLS, policies and grants', sIssues.length ? `${sIssues.length} difference(s)` : `equal on the parent and ${tgt.partitions.length} partition(s)`, undefined, sIssues));
  return items;
}

/** Compares the structure; journaled when a journal exists (create made it), so every terminal sees the result. */
export async function runVerify(ctx: StepContext): Promise<StepResult> {
  const journal = await Journal.find(ctx.client, ctx.cfg);
  const logId = await journal?.start('verify');
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  const items = verifyStructure(snap, ctx.cfg);
  for (const i of items) ctx.emit({ type: 'verify', item: i });
  const fails = items.filter((i) => i.status === 'fail');
  if (journal && logId !== undefined) await journal.finish(logId, fails.length ? 'failed' : 'done', fails.length ? `${fails.length} difference(s)` : undefined);
  return {
    ok: fails.length === 0,
    exitCode: fails.length ? EXIT.checksFailed : EXIT.ok,
    summary: fails.length ? `${fails.length} difference(s): ${fails.map((f) => f.title).join(', ')}` : 'the partitioned table matches the source and the lookup table',
    data: { items },
  };
}
