import React from 'react';
import { it } from 'vitest';
import { render } from 'ink-testing-library';
import { Text } from 'ink';
import { useWindowedList } from '../../../src/hooks/useWindowedList.js';
function X() {
  const w = useWindowedList(100, 10, { isActive: true });
  return <Text>offset={w.offset}</Text>;
}
it('dbg', async () => {
  const ink = render(<X />);
  await new Promise((r) => setTimeout(r, 100));
  for (const k of ['j', 'G', 'g', '\u001B[6~']) {
    ink.stdin.write(k);
    await new Promise((r) => setTimeout(r, 100));
    console.log(JSON.stringify(k), ink.lastFrame());
  }
});
