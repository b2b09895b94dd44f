import { it } from 'vitest';
import { demoDatabase, renderApp } from '../harness.js';
it('dbg2', async () => {
  const fx = await demoDatabase({ rows: 500, programs: 3 });
  const app = await renderApp(fx, { initialStep: 'create' });
  await app.waitFor('2. Create');
  await app.press('s');
  await app.waitFor('CREATE TABLE');
  for (const k of ['j', 'j', 'G']) {
    await app.press(k);
    await new Promise((r) => setTimeout(r, 300));
    console.log(JSON.stringify(k), app.frame().split('\n').slice(2, 5).join(' | '));
  }
  await app.close();
  await fx.close();
});
