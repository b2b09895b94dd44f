/**
 * The structural fingerprint the swap's gate compares: everything about the source that the swap carries or that the
 * copy must match (columns, types, NOT NULL, defaults, generated expressions, constraints, indexes, triggers, owner,
 * RLS, policies, grants, inheritance children, publications, rules, replica identity, dependents, foreign keys into
 * it, owned sequences) and what the copy's parent must keep (its columns, constraints and indexes). verify --data
 * records it with its result; the swap recomputes it under its locks and refuses on any difference.
 *
 * Pure: catalog pictures in, named items out. An item is one object, keyed by kind and name, with its definition as
 * text; a difference is an item added, removed or changed, named so that a person can find it.
 */
import type { Column, TableInfo } from '../catalog/types.js';
import { isPartwiseTrigger } from '../plan/planSwap.js';

export interface StructureFingerprint {
  /** item key (kind and name) -> definition */
  source: Record<string, string>;
  copy: Record<string, string>;
}

type Items = Record<string, string>;

const def = (v: unknown) => JSON.stringify(v);

function columnItems(columns: Column[], out: Items): void {
  for (const c of columns) {
    out[`column ${c.name}`] = def({
      type: c.type, collation: c.collation, notNull: c.notNull, default: c.defaultExpr, identity: c.identity, generated: c.generated, expression: c.generationExpr,
    });
  }
}

/** The columns, constraints and indexes of one table: what both sides are compared on. */
function shapeItems(t: TableInfo, out: Items): void {
  columnItems(t.columns, out);
  for (const c of t.constraints.filter((x) => !x.inherited)) {
    out[`constraint ${c.name}`] = def({ type: c.type, def: c.def, validated: c.validated });
  }
  for (const ix of t.indexes) out[`index ${ix.name}`] = def({ def: ix.def, valid: ix.isValid });
}

/** The source's items. partwise's own capture triggers are left out: the capture check watches those. */
export function sourceItems(t: TableInfo): Items {
  const out: Items = {};
  shapeItems(t, out);
  out['owner'] = def(t.owner);
  out['row level security'] = def({ enabled: t.rls, forced: t.rlsForced });
  out['replica identity'] = def({ kind: t.replicaIdentity, index: t.replicaIdentityIndex });
  out['table comment'] = def(t.comment);
  for (const tr of t.triggers.filter((x) => !isPartwiseTrigger(x))) out[`trigger ${tr.name}`] = def({ def: tr.def, enabled: tr.enabled });
  for (const r of t.rules) out[`rule ${r.name}`] = def(r.def);
  for (const p of t.policies) out[`policy ${p.name}`] = def(p);
  for (const g of t.grants) out[`grant ${g.privilege}${g.columnName === null ? '' : ` (${g.columnName})`} to ${g.grantee}`] = def({ grantable: g.grantable });
  for (const c of t.inheritanceChildren) out[`inheritance child ${c.schema}.${c.name}`] = def(true);
  for (const p of t.publications) out[`publication ${p.name}`] = def({ viaRoot: p.viaRoot });
  for (const f of t.foreignKeysIn) out[`foreign key ${f.name} from ${f.fromSchema}.${f.fromTable}`] = def(f.def);
  for (const d of t.dependents) out[`${d.kind} ${d.schema}.${d.name}`] = def(d.def);
  for (const s of t.sequences) out[`sequence ${s.schema}.${s.name}`] = def({ column: s.columnName, kind: s.kind, owner: s.owner, grants: s.grants });
  return out;
}

/** The copy's items: its parent's columns, constraints and indexes (partitions come and go with programs). */
export function copyItems(t: TableInfo): Items {
  const out: Items = {};
  shapeItems(t, out);
  return out;
}

export function structureFingerprint(source: TableInfo, copy: TableInfo): StructureFingerprint {
  return { source: sourceItems(source), copy: copyItems(copy) };
}

/** "type: int4 → int8" for each field of a changed definition (or the whole values when they are not objects). */
function changedFields(before: string, now: string): string {
  const a = JSON.parse(before) as unknown;
  const b = JSON.parse(now) as unknown;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
    return keys.filter((k) => def(ra[k]) !== def(rb[k])).map((k) => `${k}: ${def(ra[k] ?? null)} → ${def(rb[k] ?? null)}`).join('; ');
  }
  return `${before} → ${now}`;
}

function itemChanges(before: Items, now: Items, where: string): string[] {
  const out: string[] = [];
  for (const k of Object.keys(now).sort()) {
    if (!(k in before)) out.push(`${where}: ${k} was added`);
    else if (before[k] !== now[k]) out.push(`${where}: ${k} changed (${changedFields(before[k]!, now[k]!)})`);
  }
  for (const k of Object.keys(before).sort()) if (!(k in now)) out.push(`${where}: ${k} was removed`);
  return out;
}

/** Every difference between two fingerprints, named; empty when nothing changed. */
export function structureChanges(before: StructureFingerprint, now: StructureFingerprint, names: { source: string; copy: string }): string[] {
  return [...itemChanges(before.source, now.source, names.source), ...itemChanges(before.copy, now.copy, names.copy)];
}
