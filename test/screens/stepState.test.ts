import { describe, expect, it } from 'vitest';
import { stepState } from '../../src/screens/stepState.js';
import { STEPS } from '../../src/screens/steps.js';

const step = (id: string) => STEPS.find((s) => s.id === id)!;

describe('checklist states from the journal', () => {
  it('a step passed without a record is skipped, not done; the read-only prerequisites count as done', () => {
    const journal = { phase: 'migrate', steps: [] };
    expect(stepState(step('verify'), null, undefined, journal)).toBe('skipped');
    expect(stepState(step('test-insert'), null, undefined, journal)).toBe('skipped');
    expect(stepState(step('check'), null, undefined, journal)).toBe('done');
    expect(stepState(step('swap'), null, undefined, journal)).toBe('pending');
  });

  it('the running step and this session’s own result come before the journal', () => {
    const journal = { phase: 'migrate', steps: [] };
    expect(stepState(step('verify'), 'verify', undefined, journal)).toBe('running');
  });
});
