/**
 * The structural fingerprint (src/move/structure.ts) and the reverse column check (src/steps/switchGate.ts): pure,
 * from catalog pictures built here. Each kind of change the swap's gate must catch is named in the difference.
 */
import { describe, expect, it } from 'vitest';
import type { Column, PartitionedTableInfo, TableInfo } from '../src/catalog/types.js';
import { resolveConfig } from '../src/config/config.js';
import { structureChanges, structureFingerprint } from '../src/move/structure.js';
import { reverseColumnProblems } from '../src/steps/switchGate.js';

function column(name: string, over: Partial<Column> = {}): Column {
  return {
    name, attnum: 1, type: 'integer', typeOid: 23, typeKind: 'b', typeCategory: 'N', notNull: false, defaultExpr: null, identity: '',
    generated: '', generationExpr: null, collation: null, statTarget: null, comment: null, identitySequence: null, ...over,
  };
}

function table(over: Partial<TableInfo> = {}): TableInfo {
  return {
    oid: 1, schema: 'public', name: 'obs', relkind: 'r', isPartition: false, rls: false, rlsForced: false, replicaIdentity: 'd',
    replicaIdentityIndex: null, owner: 'app', comment: null, reltuples: 10, totalBytes: 1, tableBytes: 1, partitionKey: null,
    columns: [column('id', { notNull: true }), column('program_id', { type: 'uuid', typeOid: 2950 }), column('note', { type: 'text' })],
    constraints: [{ name: 'obs_pkey', type: 'p', def: 'PRIMARY KEY (id)', validated: true, deferrable: false, deferred: false, inherited: false, noInherit: false, columns: ['id'], refSchema: null, refTable: null, indexName: 'obs_pkey' }],
    foreignKeysIn: [], indexes: [], triggers: [], rules: [], policies: [], grants: [{ grantee: 'reader', privilege: 'SELECT', grantable: false, columnName: null }],
    dependents: [], publications: [], sequences: [], inheritanceChildren: [], ...over,
  } as TableInfo;
}

const copy = (over: Partial<TableInfo> = {}): PartitionedTableInfo => ({ ...table({ name: 'obs_partitioned', relkind: 'p', ...over }), partitions: [] });
const names = { source: 'public.obs', copy: 'public.obs_partitioned' };
const fp = (source: TableInfo, c: PartitionedTableInfo = copy()) => structureFingerprint(source, c);

describe('structure fingerprint', () => {
  it('finds nothing when nothing changed, and ignores what partwise changes itself (capture triggers, partitions, sizes)', () => {
    const before = fp(table());
    const capture = { name: 'partwise_capture_forward', def: 'CREATE TRIGGER ...', enabled: 'A', before: false, forEachRow: true, onInsert: true, onUpdate: true, onDelete: true, onTruncate: false, functionSchema: 'partwise', functionName: 'capture_x', functionSource: '', inherited: false };
    const now = fp(table({ triggers: [capture], reltuples: 999 }), { ...copy(), partitions: [{ oid: 9 } as PartitionedTableInfo['partitions'][number]] });
    expect(structureChanges(before, now, names)).toEqual([]);
    // it survives the journal (jsonb) unchanged
    expect(structureChanges(JSON.parse(JSON.stringify(before)), now, names)).toEqual([]);
  });

  it('names an added column, a dropped one, and a NOT NULL, type, default or generated expression that changed', () => {
    const before = fp(table());
    const added = table({ columns: [...table().columns, column('lab_id')] });
    expect(structureChanges(before, fp(added), names)).toEqual(['public.obs: column lab_id was added']);
    const dropped = table({ columns: table().columns.filter((c) => c.name !== 'note') });
    expect(structureChanges(before, fp(dropped), names)).toEqual(['public.obs: column note was removed']);
    const changed = table({ columns: [column('id', { notNull: true, type: 'bigint' }), column('program_id', { type: 'uuid', notNull: true }), column('note', { type: 'text', defaultExpr: "'x'::text" })] });
    expect(structureChanges(before, fp(changed), names)).toEqual([
      'public.obs: column id changed (type: "integer" → "bigint")',
      'public.obs: column note changed (default: null → "\'x\'::text")',
      'public.obs: column program_id changed (notNull: false → true)',
    ]);
    const generated = table({ columns: [...table().columns.slice(0, 2), column('note', { type: 'text', generated: 's', generationExpr: 'upper(x)' })] });
    expect(structureChanges(before, fp(generated), names)[0]).toMatch(/column note changed \(generated: "" → "s"; expression: null → "upper\(x\)"\)/);
  });

  it('names indexes, constraints, triggers, owner, RLS, policies, grants, inheritance children and publications', () => {
    const before = fp(table());
    const now = fp(table({
      owner: 'postgres', rls: true,
      indexes: [{ name: 'obs_note_idx', def: 'CREATE UNIQUE INDEX obs_note_idx ON public.obs USING btree (note)', isValid: true } as TableInfo['indexes'][number]],
      constraints: [...table().constraints, { name: 'obs_note_check', type: 'c', def: 'CHECK (note <> \'\')', validated: true } as TableInfo['constraints'][number]],
      triggers: [{ name: 'audit', def: 'CREATE TRIGGER audit ...', enabled: 'O', functionSchema: 'public' } as TableInfo['triggers'][number]],
      policies: [{ name: 'own rows', cmd: 'r', permissive: true, roles: ['reader'], usingExpr: 'true', checkExpr: null }],
      grants: [{ grantee: 'reader', privilege: 'SELECT', grantable: false, columnName: null }, { grantee: 'writer', privilege: 'INSERT', grantable: false, columnName: 'note' }],
      publications: [{ name: 'supabase_realtime', viaRoot: true, kind: 'table', partitioned: [] }],
      inheritanceChildren: [{ schema: 'public', name: 'obs_archive', reltuples: 500 }],
    }));
    expect(structureChanges(before, now, names)).toEqual([
      'public.obs: constraint obs_note_check was added',
      'public.obs: grant INSERT (note) to writer was added',
      'public.obs: index obs_note_idx was added',
      'public.obs: inheritance child public.obs_archive was added',
      'public.obs: owner changed ("app" → "postgres")',
      'public.obs: policy own rows was added',
      'public.obs: publication supabase_realtime was added',
      'public.obs: row level security changed (enabled: false → true)',
      'public.obs: trigger audit was added',
    ]);
    const revoked = fp(table({ grants: [] }));
    expect(structureChanges(before, revoked, names)).toEqual(['public.obs: grant SELECT to reader was removed']);
    const seq = (owner: string) => table({ sequences: [{ columnName: 'id', schema: 'public', name: 'obs_id_seq', owner, grants: [], kind: 'owned' }] });
    expect(structureChanges(fp(seq('app')), fp(seq('postgres')), names)).toEqual(['public.obs: sequence public.obs_id_seq changed (owner: "app" → "postgres")']);
  });

  it('names what changed on the copy', () => {
    const before = fp(table());
    const now = fp(table(), copy({ columns: table().columns.slice(0, 2) }));
    expect(structureChanges(before, now, names)).toEqual(['public.obs_partitioned: column note was removed']);
  });
});

describe('reverse column check (rollback after the swap)', () => {
  const cfg = resolveConfig({ table: 'obs', schema: 'public' });
  it('refuses a column of the original the partitioned table lacks, one only the partitioned table has, and a type change', () => {
    const original = table({ columns: [...table().columns, column('lab_id')] });
    expect(reverseColumnProblems(original, table(), cfg)).toEqual([expect.stringMatching(/^column lab_id of obs_old is missing on obs .*would write NULL/)]);
    const live = table({ columns: [...table().columns, column('extra', { type: 'text' })] });
    expect(reverseColumnProblems(table(), live, cfg)).toEqual([expect.stringMatching(/^column extra of obs \(added after the swap\) is missing on obs_old: its values would be lost/)]);
    const retyped = table({ columns: [column('id', { notNull: true, type: 'bigint' }), ...table().columns.slice(1)] });
    expect(reverseColumnProblems(table(), retyped, cfg)).toEqual([expect.stringMatching(/^column id is bigint on obs but integer on obs_old/)]);
    expect(reverseColumnProblems(table(), table(), cfg)).toEqual([]);
  });
});
