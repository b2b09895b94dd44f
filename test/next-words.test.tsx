import React from 'react';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { RunStatus } from '../src/screens/StepFrame.js';
import { newRun } from '../src/hooks/runState.js';
import { nextInApp } from '../src/registry/index.js';
import { createPrinter } from '../src/cli/printer.js';

/** What to run next: the CLI names the command, the app names the step's key (and the key on its screen). */
describe('the next step in words', () => {
  it('the app names the step and its key, never the command line', () => {
    expect(nextInApp('verify --data')).toBe('3 Verify, then d: compare the data (counts and checksums per program)');
    expect(nextInApp('migrate')).toBe('5 Migrate');
    const run = { ...newRun('migrate', {}, 0), status: 'done' as const, finishedAt: 1500, result: { ok: true, exitCode: 0, summary: '10 row(s) copied', next: 'verify --data' } };
    const { lastFrame, unmount } = render(<RunStatus run={run} width={100} />);
    const frame = lastFrame() ?? '';
    unmount();
    expect(frame.replace(/\s+/g, ' ')).toContain('Next: 3 Verify, then d: compare the data');
    expect(frame).not.toContain('partwise verify');
  });

  it('the command line names the command', () => {
    const lines: string[] = [];
    createPrinter({ json: false, color: false, out: (l) => lines.push(l) }).emit({ type: 'result', command: 'migrate', ok: true, exitCode: 0, summary: '10 row(s) copied', next: 'verify --data' });
    expect(lines).toEqual(['10 row(s) copied. Next: partwise verify --data']);
  });
});
