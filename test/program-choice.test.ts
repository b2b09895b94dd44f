/**
 * --program takes a key or a label. A value that is one program's key and another program's label is refused, with
 * both listed: silently taking the key would copy (or sample) the wrong program.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchProgram } from '../src/move/programs.js';
import { resultOf, runCli } from './helpers/cli.js';
import { moveFixture, type MoveFixture } from './helpers/moveSetup.js';

const rows = [
  { key: '2', label: 'Alpha' },
  { key: '7', label: '2' },
  { key: '9', label: 'beta' },
  { key: '11', label: 'Beta' },
];
const pick = (wanted: string) => matchProgram(rows, wanted, (r) => r.key, (r) => r.label);

describe('--program', () => {
  it('refuses a value that is a key and another row\'s label, listing both; key: and label: say which', () => {
    const r = pick('2');
    expect(r).toBe('--program 2 is ambiguous: it is the key of one program and the label of another: key 2 (label "Alpha"), key 7 (label "2"); say which with --program key:2 or --program label:2');
    expect(pick('key:2')).toEqual(rows[0]);
    expect(pick('label:2')).toEqual(rows[1]);
    expect(pick('Alpha')).toEqual(rows[0]);
    expect(pick('7')).toEqual(rows[1]);
    // an exact label wins over one that differs only in case; two rows with the same label need the key
    expect(pick('beta')).toEqual(rows[2]);
    expect(pick('BETA')).toMatch(/matches 2 programs by label: key 9 \(label "beta"\), key 11 \(label "Beta"\)/);
    expect(pick('nope')).toBe('--program nope: no program with that key or label');
  });

  describe('on a real database', () => {
    let f: MoveFixture;
    let keyA: string;
    beforeAll(async () => {
      f = await moveFixture('program_choice', { rows: 3000, programs: 3 });
      const ids = (await f.client.query<{ id: string }>(`SELECT program_id::text AS id FROM public.pilot_programs ORDER BY created_at`)).rows.map((r) => r.id);
      keyA = ids[0]!;
      // program B is labelled with program A's key
      await f.client.query(`UPDATE public.pilot_programs SET name = $1 WHERE program_id = $2`, [keyA, ids[1]]);
    });
    afterAll(async () => f?.close());

    it('migrate --mode one and test-insert refuse it and copy nothing', async () => {
      for (const args of [['migrate', '--mode', 'one'], ['test-insert', '--rows', '10']]) {
        const r = await runCli([...args, '--program', keyA, '--yes', '--json', '--url', f.db.url]);
        const summary = String(resultOf(r)?.summary);
        expect(summary, args[0]).toContain(`--program ${keyA} is ambiguous`);
        expect(summary, args[0]).toContain(`key ${keyA} (label "`);
        expect(summary, args[0]).toContain(`(label "${keyA}")`);
        expect(r.code, args[0]).not.toBe(0);
      }
      expect((await f.client.query(`SELECT count(*)::int AS n FROM public.petri_observations_partitioned`)).rows[0].n).toBe(0);
      const byKey = await runCli(['migrate', '--mode', 'one', '--program', `key:${keyA}`, '--yes', '--json', '--url', f.db.url]);
      expect(resultOf(byKey), byKey.stdout).toMatchObject({ ok: true });
      const copied = await f.client.query(`SELECT DISTINCT program_id::text AS k FROM public.petri_observations_partitioned`);
      expect(copied.rows.map((r) => r.k)).toEqual([keyA]);
    });
  });
});
