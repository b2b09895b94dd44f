/**
 * What the source has that a partitioned table cannot have, so the swap would lose it: rows of inheritance children
 * (docs/behaviours/inheritance-children-rows.md), exclusion constraints and unique indexes the key cannot simply be
 * appended to (docs/behaviours/partitioned-uniqueness-limits.md). Pure. `check` fails on each; the swap refuses.
 */
import type { Config } from '../config/config.js';
import type { Index, TableInfo } from '../catalog/types.js';
import { ident, qname } from '../db/quote.js';

export interface CarryProblem {
  id: 'inheritance' | 'exclusion' | 'unique-indexes';
  title: string;
  reason: string;
  todo: string;
  details: string[];
}

/** A unique index that the new table cannot have: it lacks the key, and the key cannot simply be appended to it. */
export function uncarriedUniqueIndex(ix: Index, key: string): boolean {
  return ix.isUnique && ix.isValid && !ix.backsConstraint && (!ix.prefixOk || (!ix.keyColumns.includes(key) && !ix.plainBtree));
}

/**
 * One transaction moving a child's rows into the table, then detaching the child. DELETE ... RETURNING takes each row
 * as the last committed write left it; the lock makes writes to the child wait, and they then find the row in the
 * table (a copy made by INSERT ... SELECT before a separate DELETE loses the updates made in between).
 */
function moveChildRows(source: TableInfo, table: string, child: string): string {
  const cols = source.columns.filter((x) => x.generated === '').map((x) => ident(x.name)).join(', ');
  const overriding = source.columns.some((x) => x.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
  return `BEGIN; LOCK TABLE ONLY ${child} IN EXCLUSIVE MODE; ` +
    `WITH moved AS (DELETE FROM ONLY ${child} RETURNING ${cols}) INSERT INTO ${table} (${cols})${overriding} SELECT ${cols} FROM moved; ` +
    `ALTER TABLE ${child} NO INHERIT ${table}; COMMIT`;
}

export function carryProblems(source: TableInfo, cfg: Config): CarryProblem[] {
  const out: CarryProblem[] = [];
  const table = qname(cfg.schema, cfg.table);
  const children = source.inheritanceChildren;
  if (children.length) {
    const c = qname(children[0]!.schema, children[0]!.name);
    out.push({
      id: 'inheritance', title: 'Inheritance children',
      reason: `${children.length} table(s) INHERIT from ${cfg.table}: a query on ${cfg.table} also returns their rows, but a partitioned table cannot have such children and partwise copies ${cfg.table}'s own rows only, so their rows would vanish from ${cfg.table} at the swap`,
      todo: `move each child's rows into ${cfg.table} and detach it, in one transaction that holds off writes to the child meanwhile (a write to a row being moved then finds it in ${cfg.table}): ${moveChildRows(source, table, c)}; ` +
        `or only detach it (ALTER TABLE ${c} NO INHERIT ${table}) if the application must no longer see its rows through ${cfg.table}; then run check again`,
      details: children.map((x) => `${x.schema}.${x.name}: ${x.reltuples >= 0 ? `~${Math.round(x.reltuples)} row(s)` : 'not analyzed yet'}`),
    });
  }
  const exclusions = source.constraints.filter((c) => c.type === 'x' && !c.inherited);
  if (exclusions.length) {
    const x = exclusions[0]!;
    out.push({
      id: 'exclusion', title: 'Exclusion constraints',
      reason: `${exclusions.length} exclusion constraint(s): a partitioned table cannot enforce one across its partitions (PostgreSQL before 17 not at all, 17 only with ${cfg.key} WITH =), so the new table would not have it and rows violating it could be written after the swap`,
      todo: `drop it (ALTER TABLE ${table} DROP CONSTRAINT ${ident(x.name)}) and enforce the rule otherwise (a UNIQUE constraint that includes ${cfg.key}, or a trigger; on PostgreSQL 17 one with ${ident(cfg.key)} WITH = can be added to the partitioned table after the swap), then run check again`,
      details: exclusions.map((e) => `${e.name}: ${e.def}`),
    });
  }
  const uniques = source.indexes.filter((i) => uncarriedUniqueIndex(i, cfg.key));
  if (uniques.length) {
    const u = uniques[0]!;
    out.push({
      id: 'unique-indexes', title: 'Unique indexes without the key',
      reason: `${uniques.length} unique index(es) do not contain ${cfg.key}: a partitioned table enforces uniqueness only on columns that include the key, and partwise appends ${cfg.key} only to a plain btree on columns, not to one with expressions, a predicate, INCLUDE columns, NULLS NOT DISTINCT or non-default operator classes, collations or order. The new table would not have it`,
      todo: `replace it by one that includes ${cfg.key} (CREATE UNIQUE INDEX CONCURRENTLY ... ON ${table} (..., ${ident(cfg.key)}); DROP INDEX CONCURRENTLY ${qname(cfg.schema, u.name)}), knowing that it is then unique only within one ${cfg.key}, or drop it; then run check again`,
      details: uniques.map((i) => i.def),
    });
  }
  return out;
}
