/**
 * archive and restore stream: the partwise process's peak memory (VmHWM, the kernel's high-water mark of its
 * resident set) stays flat when the partition grows from about 1 MB to about 150 MB of rows, and stays well below the
 * partition's size. A client that buffered the COPY would grow with it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from './helpers/cliProcess.js';
import { archiveFixture, type ArchiveFixture } from './helpers/archiveSetup.js';

/**
 * The memory budget: a JavaScript heap of 64 MB (less than half the large partition: a client that collected the rows
 * would fail with "heap out of memory") and small young generations, so that the garbage collector's slack does not
 * hide what is kept.
 */
const BUDGET = { NODE_OPTIONS: '--max-old-space-size=64 --max-semi-space-size=1' };

/** Runs the CLI and samples its peak resident set (kB) from /proc until it exits. */
async function peakRss(args: string[]): Promise<{ peakMb: number; ok: boolean; output: string }> {
  const run = startCli(args, BUDGET);
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${run.child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // exited between two samples: the last sample stands (VmHWM only grows)
    }
  };
  const timer = setInterval(sample, 10);
  await run.exited;
  clearInterval(timer);
  const result = run.events.find((e) => e.type === 'result');
  return { peakMb: peak / 1024, ok: result?.ok === true, output: run.output() };
}

describe('archive and restore memory', () => {
  let f: ArchiveFixture;
  let small: string;
  let large: string;
  let largeBytes: number;
  beforeAll(async () => {
    f = await archiveFixture('archive_memory', { rows: 3000, programs: 2 });
    [small, large] = f.programs.map((p) => p.key) as [string, string];
    // about 150 MB of COPY text of random hex: gzip keeps about half of it, so the file is large too
    await f.client.query(`INSERT INTO public.petri_observations (program_id, phase, petri_code)
      SELECT $1, 'growth', (SELECT string_agg(md5(random()::text || g::text || x::text), '') FROM generate_series(1, 40) x) FROM generate_series(1, 120000) g`, [large]);
    largeBytes = Number((await f.client.query(`SELECT sum(octet_length(petri_code))::int8 AS b FROM public.petri_observations WHERE program_id = $1`, [large])).rows[0].b);
  }, 600_000);
  afterAll(async () => f?.close());

  it('peak memory does not grow with the partition', async () => {
    expect(largeBytes).toBeGreaterThan(140 * 1024 * 1024);
    const m: Record<string, number> = {};
    for (const [name, key] of [['small', small], ['large', large]] as const) {
      const path = f.file(`${name}.copy.gz`);
      const a = await peakRss(['archive', '--program', `key:${key}`, '--to', path, '--yes', '--url', f.db.url]);
      expect(a.ok, a.output).toBe(true);
      const r = await peakRss(['restore', '--from', path, '--yes', '--url', f.db.url]);
      expect(r.ok, r.output).toBe(true);
      m[`archive ${name}`] = a.peakMb;
      m[`restore ${name}`] = r.peakMb;
    }
    console.log(`peak RSS (MB): ${JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v)])))}; large partition ${Math.round(largeBytes / 1024 / 1024)} MB of text`);
    // flat: 150 times the data adds less than 20 MB (buffers in flight, the allocator's slack)
    expect(m['archive large']! - m['archive small']!).toBeLessThan(20);
    expect(m['restore large']! - m['restore small']!).toBeLessThan(20);
    expect(m['archive large']!).toBeLessThan(largeBytes / 1024 / 1024);
    expect(m['restore large']!).toBeLessThan(largeBytes / 1024 / 1024);
  }, 600_000);
});
