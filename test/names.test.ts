import { describe, expect, it } from 'vitest';
import { byteLength, checkGivenName, fitIdentifier, keySlug, partitionName } from '../src/config/names.js';
import { resolveConfig, ConfigError } from '../src/config/config.js';
import { expectedListBound } from '../src/plan/listBound.js';
import { triggerAssignsKey } from '../src/steps/check.js';

describe('identifier names', () => {
  it('keeps names that fit and shortens longer ones deterministically within 63 bytes', () => {
    expect(fitIdentifier('petri_obs_default')).toBe('petri_obs_default');
    const long = 'x'.repeat(80);
    expect(byteLength(fitIdentifier(long))).toBeLessThanOrEqual(63);
    expect(fitIdentifier(long)).toBe(fitIdentifier(long));
  });

  it('never lets two long names shorten to the same identifier', () => {
    const a = fitIdentifier('p'.repeat(70) + 'a');
    const b = fitIdentifier('p'.repeat(70) + 'b');
    expect(a).not.toBe(b);
    expect(a.slice(0, 40)).toBe(b.slice(0, 40));
  });

  it('does not split multi-byte characters when shortening', () => {
    const name = fitIdentifier('é'.repeat(40));
    expect(byteLength(name)).toBeLessThanOrEqual(63);
    expect(name).not.toContain('\uFFFD');
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
  });

  it('builds partition names from the key slug, injective even where slugs collide', () => {
    const cfg = { partitionName: 'petri_obs_prog_{key}' };
    expect(keySlug('0e5c9a4e-1111-2222-3333-444455556666')).toBe('0e5c9a4e_1111_2222_3333_444455556666');
    expect(partitionName(cfg, '0e5c9a4e-1111-2222-3333-444455556666')).toBe('petri_obs_prog_0e5c9a4e_1111_2222_3333_444455556666');
    expect(partitionName(cfg, '42')).toBe('petri_obs_prog_42');
    expect(partitionName(cfg, 'a-b')).not.toBe(partitionName(cfg, 'a_b'));
    expect(partitionName(cfg, "O'Brien; DROP TABLE x")).toMatch(/^petri_obs_prog_O_Brien__DROP_TABLE_x_[0-9a-f]{6}$/);
    expect(byteLength(partitionName(cfg, 'k'.repeat(200)))).toBeLessThanOrEqual(63);
  });

  it('rejects given names over 63 bytes with a message naming the option', () => {
    expect(checkGivenName('--new-table', 'n'.repeat(64))).toMatch(/--new-table .* 64 bytes/);
    expect(checkGivenName('--new-table', 'n'.repeat(63))).toBeNull();
  });
});

describe('config', () => {
  it('defaults to the first user case', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({
      schema: 'public', table: 'petri_observations', key: 'program_id', lookup: 'pilot_programs', lookupSchema: 'public',
      lookupKey: 'program_id', lookupLabel: 'name', newTable: 'petri_observations_partitioned', oldTable: 'petri_observations_old',
      partitionName: 'petri_obs_prog_{key}', defaultPartition: 'petri_obs_default',
    });
    expect(resolveConfig({ table: 'orders' }).newTable).toBe('orders_partitioned');
  });

  it('names the field and the problem when invalid', () => {
    expect(() => resolveConfig({ partitionName: 'no_placeholder' } as never)).toThrow(/partitionName.*\{key\}/);
    expect(() => resolveConfig({ tabel: 'x' } as never)).toThrow(ConfigError);
    expect(() => resolveConfig({ lockTimeoutMs: -1 } as never)).toThrow(/lockTimeoutMs/);
  });
});

describe('list bounds as the server prints them', () => {
  it('quotes all but non-negative int4 and numeric', () => {
    expect(expectedListBound('uuid', '0e5c9a4e-1111-2222-3333-444455556666')).toBe("FOR VALUES IN ('0e5c9a4e-1111-2222-3333-444455556666')");
    expect(expectedListBound('integer', '5')).toBe('FOR VALUES IN (5)');
    expect(expectedListBound('integer', '-5')).toBe("FOR VALUES IN ('-5')");
    expect(expectedListBound('bigint', '5')).toBe("FOR VALUES IN ('5')");
    expect(expectedListBound('text', "O'Brien")).toBe("FOR VALUES IN ('O''Brien')");
  });
});

describe('BEFORE triggers that assign the key (docs/behaviours/before-trigger-cannot-move-a-row.md)', () => {
  it('finds assignments to the key, quoted or not, and ignores comparisons', () => {
    expect(triggerAssignsKey('BEGIN NEW.program_id := (SELECT 1); RETURN NEW; END', 'program_id')).toBe(true);
    expect(triggerAssignsKey('begin new."program_id" = x; return new; end', 'program_id')).toBe(true);
    expect(triggerAssignsKey('BEGIN IF NEW.program_id = 1 THEN RETURN NULL; END IF; RETURN NEW; END', 'program_id')).toBe(false);
    expect(triggerAssignsKey('BEGIN NEW.updated_at := now(); RETURN NEW; END', 'program_id')).toBe(false);
    expect(triggerAssignsKey('BEGIN NEW."programId" := 1; RETURN NEW; END', 'programId')).toBe(true);
    expect(triggerAssignsKey('BEGIN NEW.programid := 1; RETURN NEW; END', 'programId')).toBe(false);
  });
});
