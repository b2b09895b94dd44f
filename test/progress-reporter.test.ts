/**
 * The copy's progress events (src/move/progressReporter.ts) and the journal's progress for a terminal that does not
 * run the copy (src/state/copyProgress.ts): each program's rate and ETA from its own rows, paused means 0/s and no
 * ETA. Time is passed in: no timers, nothing timed.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/events.js';
import { ProgressReporter } from '../src/move/progressReporter.js';
import type { ProgramEntry } from '../src/move/programs.js';
import { progressFromReadings, type JournalCopy } from '../src/state/copyProgress.js';

const CONTROLS = { paused: false, batchSize: 1000, maxRate: null, sleepMs: 0 };

function programs(): ProgramEntry[] {
  return [
    { program: 'big', label: 'Big', keys: ['big'], total: 100_000, copied: 0, state: 'copying' },
    { program: 'small', label: 'Small', keys: ['small'], total: 1_000, copied: 0, state: 'copying' },
  ];
}

describe('progress of the copy', () => {
  it('each program\'s rate and ETA are its own, in all mode as one pass copies both', () => {
    let now = 1_000_000;
    const events: EngineEvent[] = [];
    const list = programs();
    const [big, small] = list as [ProgramEntry, ProgramEntry];
    const r = new ProgressReporter((e) => events.push(e), 'all', list, () => now);
    // one batch a second: 900 rows of the big program, 100 of the small one
    for (let i = 0; i < 5; i++) {
      now += 1000;
      big.copied += 900;
      small.copied += 100;
      r.batch(list, new Map([[big, 900], [small, 100]]), 1000);
    }
    r.program(big);
    r.program(small);
    r.overall(0, CONTROLS);
    const last = (p: string) => events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress' && e.program === p).at(-1)!;
    expect(last('big').rowsPerSec).toBeCloseTo(900, 6);
    expect(last('small').rowsPerSec).toBeCloseTo(100, 6);
    expect(last('big').etaSec).toBe(Math.ceil((100_000 - 4500) / 900));
    expect(last('small').etaSec).toBe(Math.ceil((1000 - 500) / 100));
    const overall = events.filter((e) => e.type === 'progress.overall').at(-1)!;
    expect(overall).toMatchObject({ rowsPerSec: 1000, etaSec: Math.ceil((101_000 - 5000) / 1000), paused: false, mode: 'all' });
  });

  it('paused: every rate is 0 and there is no ETA (overall too); resumed, the pause is not averaged in', () => {
    let now = 1_000_000;
    const events: EngineEvent[] = [];
    const list = programs();
    const [big] = list as [ProgramEntry];
    const r = new ProgressReporter((e) => events.push(e), 'all', list, () => now);
    for (let i = 0; i < 3; i++) {
      now += 1000;
      big.copied += 500;
      r.batch(list, new Map([[big, 500]]), 500);
    }
    r.setPaused(true, list);
    r.overall(0, { ...CONTROLS, paused: true });
    const paused = events.slice(-3);
    expect(paused).toEqual([
      expect.objectContaining({ type: 'progress', program: 'big', state: 'paused', rowsPerSec: 0, etaSec: null }),
      expect.objectContaining({ type: 'progress', program: 'small', state: 'paused', rowsPerSec: 0, etaSec: null }),
      expect.objectContaining({ type: 'progress.overall', paused: true, rowsPerSec: 0, etaSec: null }),
    ]);
    // a minute later: resumed, two batches at 500 rows/s; the minute of pause does not drag the rate down
    now += 60_000;
    r.setPaused(false, list);
    for (let i = 0; i < 2; i++) {
      now += 1000;
      big.copied += 500;
      r.batch(list, new Map([[big, 500]]), 500);
    }
    r.program(big);
    expect(events.at(-1)).toMatchObject({ program: 'big', state: 'copying', rowsPerSec: 500 });
    // a rate changed from another terminal while paused is noticed (and shown at once by the copy loop)
    r.overall(0, CONTROLS);
    expect(r.controlsChanged({ ...CONTROLS, maxRate: 500 })).toBe(true);
    expect(r.controlsChanged(CONTROLS)).toBe(false);
  });

  it('from the journal (watch, a copy run elsewhere): rates per program between readings; paused means 0/s', () => {
    const copy = (paused: boolean, big: number, small: number): JournalCopy => ({
      programs: [
        { program: 'big', label: 'Big', copied: big, total: 100_000, state: paused ? 'paused' : 'copying' },
        { program: 'small', label: 'Small', copied: small, total: 1000, state: paused ? 'paused' : 'copying' },
      ],
      paused, batchSize: 1000, maxRate: null, backlog: 3, copying: true, mode: 'all',
    });
    const first = progressFromReadings(copy(false, 0, 0), null, 0);
    const second = progressFromReadings(copy(false, 1800, 200), first.reading, 2000);
    expect(second.programs.map((p) => [p.program, p.rowsPerSec, p.etaSec])).toEqual([['big', 900, Math.ceil(98_200 / 900)], ['small', 100, 8]]);
    expect(second.overall).toMatchObject({ rowsPerSec: 1000, backlog: 3 });
    const third = progressFromReadings(copy(true, 2700, 300), second.reading, 3000);
    expect(third.programs.map((p) => [p.rowsPerSec, p.etaSec])).toEqual([[0, null], [0, null]]);
    expect(third.overall).toMatchObject({ rowsPerSec: 0, etaSec: null, paused: true });
  });
});
