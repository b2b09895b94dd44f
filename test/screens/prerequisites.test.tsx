import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDatabase, KEY, renderApp, type DatabaseFixture } from './harness.js';

describe('Prerequisites screen, help overlay, keys (real database)', () => {
  let fx: DatabaseFixture;
  beforeAll(async () => {
    fx = await demoDatabase({ rows: 2000, programs: 4 });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('opens on the first step not done and runs the checks by itself', async () => {
    const app = await renderApp(fx);
    try {
      const f = await app.waitFor(/1\. Prerequisites\s+(✔ done|✘ failed)/);
      expect(f).toMatch(/\d+ ok · \d+ warn · \d+ fail/);
      expect(f).toContain('1. Prerequisites');
      expect(f).toMatch(/server version|PostgreSQL/i);
      // the status line names the server and the table, and never a password
      expect(f).toContain('public.petri_observations');
      expect(f).toContain('connection ok');
      if (typeof fx.db.config.password === 'string' && fx.db.config.password) expect(f).not.toContain(fx.db.config.password);
      // 80x24 and wider: never taller than the terminal
      expect(f.split('\n').length).toBeLessThan(24);
    } finally {
      await app.close();
    }
  });

  it('opens and closes the help overlay with ?, esc and q', async () => {
    const app = await renderApp(fx, { initialStep: 'check' });
    try {
      await app.waitFor('1. Prerequisites');
      await app.press('?');
      await app.waitFor('Help — keys');
      expect(app.frame()).toContain('jump to a step');
      // what does not fit scrolls: G shows the end (the monitor's keys), and nothing is cut on the way
      await app.press('G');
      await app.waitFor('exact row count of the selected partition');
      expect(app.frame()).not.toMatch(/↓ \d+ more/);
      await app.press(KEY.esc);
      await app.waitFor((f) => !f.includes('Help — keys'));
      await app.press('?');
      await app.waitFor('Help — keys');
      await app.press('q');
      await app.waitFor((f) => !f.includes('Help — keys'));
      // q in the help overlay closes it, it does not quit
      expect(app.exits).toEqual([]);
      await app.press('?', '?');
      await app.waitFor((f) => !f.includes('Help — keys'));
    } finally {
      await app.close();
    }
  });

  it('jumps with digits, tab and shift+tab, esc goes back, shows the SQL with s, quits with q', async () => {
    const app = await renderApp(fx, { initialStep: 'check' });
    try {
      // the screen runs the checks when it opens: let them finish, or q at the end asks to stop a running step
      await app.waitFor(/\d+ ok · \d+ warn · \d+ fail/);
      await app.press('3');
      await app.waitFor('3. Verify');
      await app.press(KEY.tab);
      await app.waitFor('4. Test insert');
      await app.press(KEY.shiftTab, KEY.shiftTab);
      await app.waitFor('2. Create');
      await app.press(KEY.esc);
      await app.waitFor('3. Verify');
      await app.press('2', 's');
      const sql = await app.waitFor('CREATE TABLE');
      expect(sql).toContain('lock: ACCESS EXCLUSIVE');
      await app.press('G');
      await app.waitFor('↑');
      await app.press('s');
      await app.waitFor((f) => f.includes('2. Create') && !f.includes('lines)'));
      await app.press('q');
      // the quit runs after the key's render: wait for it rather than read exits at once
      expect(await app.waitForExit()).toBe(0);
      expect(app.exits).toEqual([0]);
    } finally {
      await app.close();
    }
  });
});
