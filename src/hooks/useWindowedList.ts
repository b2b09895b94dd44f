import { useEffect, useState } from 'react';
import { useInput } from 'ink';

export interface ListWindow {
  /** the selected item (select mode) or the first visible one (scroll mode) */
  cursor: number;
  /** the first visible item */
  offset: number;
  /** how many items are visible */
  height: number;
}

/** Where a window of `height` rows starts so that `cursor` is visible, moving as little as possible. */
export function followCursor(offset: number, cursor: number, height: number, count: number): number {
  let o = offset;
  if (cursor < o) o = cursor;
  if (cursor >= o + height) o = cursor - height + 1;
  return Math.max(0, Math.min(o, Math.max(0, count - height)));
}

/**
 * Keys for a list that shows only what fits: arrows and j/k, PgUp/PgDn, g/G (home/end).
 * `select`: a highlighted row moves and the window follows it; otherwise the keys scroll the window.
 */
export function useWindowedList(count: number, height: number, opts: { isActive: boolean; select?: boolean }): ListWindow {
  const h = Math.max(1, height);
  const [pos, setPos] = useState({ cursor: 0, offset: 0 });
  const maxCursor = opts.select ? Math.max(0, count - 1) : Math.max(0, count - h);

  useEffect(() => {
    // the list shrank or the terminal changed: keep the window inside the list
    setPos((p) => {
      const cursor = Math.min(p.cursor, maxCursor);
      const offset = opts.select ? followCursor(p.offset, cursor, h, count) : cursor;
      return cursor === p.cursor && offset === p.offset ? p : { cursor, offset };
    });
  }, [count, h, maxCursor, opts.select]);

  useInput(
    (input, key) => {
      let delta: number | null = null;
      if (key.downArrow || input === 'j') delta = 1;
      else if (key.upArrow || input === 'k') delta = -1;
      else if (key.pageDown) delta = h;
      else if (key.pageUp) delta = -h;
      else if (input === 'g' || key.home) delta = -Infinity;
      else if (input === 'G' || key.end) delta = Infinity;
      if (delta === null) return;
      setPos((p) => {
        const cursor = Math.max(0, Math.min(maxCursor, p.cursor + delta!));
        return { cursor, offset: opts.select ? followCursor(p.offset, cursor, h, count) : cursor };
      });
    },
    { isActive: opts.isActive },
  );

  return { cursor: pos.cursor, offset: pos.offset, height: h };
}
