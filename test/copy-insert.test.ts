/**
 * The copy batch's INSERT … SELECT builder (src/move/copyInsert.ts), pure: each shape of the statement and its
 * parameters, with hostile names quoted. Whether the statements do what they say on a real server is shown by
 * test/copy-fast-path.test.ts and test/copy-progress.test.ts, which run them through copyBatch.
 */
import { describe, expect, it } from 'vitest';
import type { Column } from '../src/catalog/types.js';
import { resolveConfig } from '../src/config/config.js';
import { copyInsertParams, copyInsertSql, type CopyInsertShape } from '../src/move/copyInsert.js';

const cfg = resolveConfig({ schema: 'we"ird', table: 'obs; DROP', key: 'Prog Id', newTable: 'obs_new' });
const columns = [{ name: 'id' }, { name: 'Prog Id' }, { name: 'note"x' }] as Column[];
const shape = (over: Partial<CopyInsertShape> = {}): CopyInsertShape => ({
  cfg, columns, keyType: 'uuid', filter: { kind: 'key', key: 'k1' }, xmin: 'any', onConflict: false, returning: false, ...over,
});

describe('copyInsertSql', () => {
  it('one program: explicit columns, ONLY the source, the ctid range and the key, names quoted', () => {
    expect(copyInsertSql(shape())).toBe(
      'INSERT INTO "we""ird"."obs_new" ("id", "Prog Id", "note""x") OVERRIDING SYSTEM VALUE ' +
        'SELECT s."id", s."Prog Id", s."note""x" FROM ONLY "we""ird"."obs; DROP" s ' +
        'WHERE s.ctid >= $1::tid AND s.ctid < $2::tid AND s."Prog Id" = $3::uuid',
    );
  });

  it('every key but the excluded ones, never a NULL key', () => {
    expect(copyInsertSql(shape({ filter: { kind: 'except', keys: ['a'] } }))).toMatch(
      / AND s\."Prog Id" IS NOT NULL AND NOT \(s\."Prog Id" = ANY\(\$3::text\[\]::uuid\[\]\)\)$/,
    );
  });

  it('xmin bands: old rows without ON CONFLICT, new rows with it, from the install age in $4', () => {
    expect(copyInsertSql(shape({ xmin: 'old' }))).toMatch(/ AND \(age\(s\.xmin\) > \$4 OR age\(s\.xmin\) < 0\)$/);
    expect(copyInsertSql(shape({ xmin: 'new', onConflict: true }))).toMatch(/ AND age\(s\.xmin\) BETWEEN 0 AND \$4 ON CONFLICT DO NOTHING$/);
    expect(copyInsertSql(shape({ xmin: 'any', onConflict: true }))).not.toContain('age(');
  });

  it('returning: the insert in a CTE, counted per key text', () => {
    const sql = copyInsertSql(shape({ returning: true, onConflict: true }));
    expect(sql.startsWith('WITH ins AS (INSERT INTO "we""ird"."obs_new" ')).toBe(true);
    expect(sql).toContain(' ON CONFLICT DO NOTHING RETURNING "Prog Id") SELECT g.k::text AS k, g.n FROM (SELECT "Prog Id" AS k, count(*)::int8 AS n FROM ins GROUP BY 1) g');
  });
});

describe('copyInsertParams', () => {
  it('blocks as tids, the key or the excluded keys, and the age only when given', () => {
    expect(copyInsertParams(3, 7, { kind: 'key', key: "o'k" })).toEqual(['(3,0)', '(7,0)', "o'k"]);
    expect(copyInsertParams(0, 1, { kind: 'except', keys: ['a', 'b'] }, 42)).toEqual(['(0,0)', '(1,0)', ['a', 'b'], 42]);
  });
});
