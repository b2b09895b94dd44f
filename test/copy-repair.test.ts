/**
 * migrate's repair of the copy (src/plan/planCopyRepair.ts): pure, from catalog pictures built here.
 */
import { describe, expect, it } from 'vitest';
import type { Column, Constraint, Index, PartitionedTableInfo, TableInfo } from '../src/catalog/types.js';
import { resolveConfig } from '../src/config/config.js';
import { planCopyRepair } from '../src/plan/planCopyRepair.js';
import { buildIndexSteps, deferIndexesStep } from '../src/plan/deferIndexes.js';
import type { Snapshot } from '../src/catalog/types.js';

const cfg = resolveConfig({ table: 'obs', schema: 'public', key: 'program_id' });

const column = (name: string, over: Partial<Column> = {}): Column => ({
  name, attnum: 1, type: 'integer', typeOid: 23, typeKind: 'b', typeCategory: 'N', notNull: false, defaultExpr: null, identity: '',
  generated: '', generationExpr: null, collation: null, statTarget: null, comment: null, identitySequence: null, ...over,
});
const pk = (columns: string[], name: string): Constraint => ({
  name, type: 'p', def: `PRIMARY KEY (${columns.join(', ')})`, validated: true, deferrable: false, deferred: false, inherited: false, noInherit: false,
  columns, refSchema: null, refTable: null, indexName: name,
});
const index = (name: string, over: Partial<Index> = {}): Index => ({
  name, isUnique: false, isPrimary: false, backsConstraint: false, isPartial: false, hasExpressions: false, isValid: true, def: '',
  methodAndColumns: 'btree (note)', prefixOk: true, keyColumns: ['note'], attachedChildren: 0, plainBtree: true, ...over,
});
const base = [column('id', { notNull: true }), column('program_id', { type: 'uuid', notNull: false }), column('note', { type: 'text' })];
const source = (over: Partial<TableInfo> = {}): TableInfo => ({
  oid: 1, schema: 'public', name: 'obs', relkind: 'r', isPartition: false, rls: false, rlsForced: false, replicaIdentity: 'd', replicaIdentityIndex: null,
  owner: 'app', comment: null, reltuples: 0, totalBytes: 0, tableBytes: 0, partitionKey: null, columns: base, constraints: [pk(['id'], 'obs_pkey')],
  foreignKeysIn: [], indexes: [], triggers: [], rules: [], policies: [], grants: [], dependents: [], publications: [], sequences: [], inheritanceChildren: [], ...over,
});
const copy = (over: Partial<TableInfo> = {}): PartitionedTableInfo => ({
  ...source({ name: 'obs_partitioned', relkind: 'p', columns: base.map((c) => (c.name === 'program_id' ? { ...c, notNull: true } : c)), constraints: [pk(['id', 'program_id'], 'obs_partitioned_pkey')], ...over }),
  partitions: [],
});

describe('planCopyRepair', () => {
  it('has nothing to do when the copy is what create made', () => {
    expect(planCopyRepair(source(), copy(), cfg)).toEqual({ before: [], backfill: [], after: [], refused: [], uncarried: [] });
  });

  it('adds a NOT NULL column nullable, back-fills it, then sets NOT NULL; drops a column the source lost', () => {
    const r = planCopyRepair(source({ columns: [...base.filter((c) => c.name !== 'note'), column('lab', { notNull: true, defaultExpr: '1' })] }), copy(), cfg);
    expect(r.before.flatMap((s) => s.statements)).toEqual([
      'ALTER TABLE "public"."obs_partitioned" ADD COLUMN "lab" integer DEFAULT 1',
      'ALTER TABLE "public"."obs_partitioned" DROP COLUMN "note"',
    ]);
    expect(r.backfill).toEqual(['lab']);
    expect(r.after.flatMap((s) => s.statements)).toEqual(['ALTER TABLE "public"."obs_partitioned" ALTER COLUMN "lab" SET NOT NULL']);
  });

  it('creates a missing index on the parent (a unique one with the key appended) and drops one the source lost', () => {
    const r = planCopyRepair(
      source({ indexes: [index('obs_note_key', { isUnique: true })] }),
      copy({ indexes: [index('obs_partitioned_old_idx')] }), cfg,
    );
    expect(r.after.flatMap((s) => s.statements)).toEqual(['CREATE UNIQUE INDEX "obs_partitioned_note_key" ON "public"."obs_partitioned" USING btree ("note", "program_id")']);
    expect(r.before.flatMap((s) => s.statements)).toEqual(['DROP INDEX IF EXISTS "public"."obs_partitioned_old_idx"']);
  });

  it('refuses what cannot be repaired in place, and leaves what no partitioned table can have to check and the swap', () => {
    const r = planCopyRepair(
      source({
        columns: [...base.map((c) => (c.name === 'program_id' ? { ...c, type: 'text' } : c)), column('n', { identity: 'a' })],
        constraints: [pk(['id'], 'obs_pkey'), { ...pk(['note'], 'obs_excl'), type: 'x', def: 'EXCLUDE USING btree (note WITH =)' }],
        indexes: [index('obs_expr_key', { isUnique: true, hasExpressions: true, plainBtree: false, keyColumns: [] })],
      }),
      copy(), cfg,
    );
    expect(r.refused).toEqual([
      expect.stringMatching(/^the key column program_id changed type \(uuid → text\): partwise rollback/),
      expect.stringMatching(/^identity column n was added to obs after create: partwise rollback/),
    ]);
    expect(r.uncarried).toEqual([
      expect.stringMatching(/^exclusion constraint obs_excl of obs cannot exist on the partitioned table/),
      expect.stringMatching(/^index obs_expr_key of obs: .*the swap refuses it/),
    ]);
  });
});

describe('the bulk copy without the secondary indexes (src/plan/deferIndexes.ts)', () => {
  const snapOf = (src: TableInfo, tgt: PartitionedTableInfo) => ({ source: src, target: tgt }) as unknown as Snapshot;
  const src = source({ indexes: [index('obs_note_idx'), index('obs_note_key', { isUnique: true })] });

  it('planCopyRepair with deferIndexes leaves a missing non-unique index to be built after the copy, but still a unique one', () => {
    const r = planCopyRepair(src, copy({ indexes: [] }), cfg, { deferIndexes: true });
    expect(r.after.map((s) => s.id)).toEqual(['index:obs_partitioned_note_key']);
    expect(planCopyRepair(src, copy({ indexes: [] }), cfg).after.map((s) => s.id)).toEqual(['index:obs_partitioned_note_idx', 'index:obs_partitioned_note_key']);
  });

  it('drops only the copy\'s non-unique indexes that match the source, and builds exactly those again with create\'s statement', () => {
    const tgt = copy({ indexes: [index('obs_partitioned_note_idx'), index('obs_partitioned_note_key', { isUnique: true }), index('obs_partitioned_other_idx', { methodAndColumns: 'btree (id)' })] });
    const drop = deferIndexesStep(snapOf(src, tgt), cfg)!;
    expect(drop.statements).toEqual(['DROP INDEX "public"."obs_partitioned_note_idx"']);
    expect(drop.locks).toEqual([expect.objectContaining({ mode: 'ACCESS EXCLUSIVE', on: '"public"."obs_partitioned"' })]);
    const builds = buildIndexSteps(snapOf(src, copy({ indexes: [index('obs_partitioned_note_key', { isUnique: true })] })), cfg);
    expect(builds.map((b) => b.statements)).toEqual([['SET LOCAL statement_timeout = 0', 'CREATE INDEX "obs_partitioned_note_idx" ON "public"."obs_partitioned" USING btree (note)']]);
    expect(drop.reverse).toEqual([builds[0]!.statements[1]]);
    expect(buildIndexSteps(snapOf(src, tgt), cfg)).toEqual([]);
  });

  it('with deferIndexes a non-unique index that differs from the source\'s is dropped, to be built after the copy', () => {
    const r = planCopyRepair(src, copy({ indexes: [index('obs_partitioned_note_idx', { methodAndColumns: 'btree (id)' }), index('obs_partitioned_note_key', { isUnique: true })] }), cfg, { deferIndexes: true });
    expect(r.before.map((x) => x.statements)).toEqual([['DROP INDEX "public"."obs_partitioned_note_idx"']]);
    expect(r.after.map((x) => x.id)).not.toContain('index:obs_partitioned_note_idx');
  });

  it('an index that backs one of the table\'s own foreign keys is kept during the copy (the referenced table\'s deletes look through it)', () => {
    const fk: Constraint = { ...pk(['note'], 'obs_note_fkey'), type: 'f', def: 'FOREIGN KEY (note) REFERENCES notes(note)', indexName: null, refSchema: 'public', refTable: 'notes' };
    const withFk = source({ indexes: src.indexes, constraints: [...source().constraints, fk] });
    const tgt = copy({ indexes: [index('obs_partitioned_note_idx'), index('obs_partitioned_note_key', { isUnique: true })] });
    expect(deferIndexesStep(snapOf(withFk, tgt), cfg)).toBeNull();
    expect(planCopyRepair(withFk, copy({ indexes: [] }), cfg, { deferIndexes: true }).after.map((x) => x.id)).toContain('index:obs_partitioned_note_idx');
  });

  it('nothing to defer when the copy has no such index', () => {
    expect(deferIndexesStep(snapOf(src, copy({ indexes: [] })), cfg)).toBeNull();
  });
});
