import { describe, expect, it } from 'vitest';
import { wrapLines } from '../src/text/wrap.js';

describe('wrapLines', () => {
  it('breaks at spaces within the width, with a hanging indent, and keeps every character', () => {
    const text = '! 40001: make sure the application retries serialization failures when a key update moves a row';
    const lines = wrapLines(text, 30, '    ');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(30);
    expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
    expect(lines.map((l) => l.trim()).join(' ')).toBe(text);
  });

  it('splits a word longer than a line, and leaves short text alone', () => {
    const long = 'petri_obs_prog_56c6bd02_6920_4d1e_9f7a_0123456789ab';
    const lines = wrapLines(`${long} end`, 20, '  ');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(20);
    expect(lines.join('').replace(/ /g, '')).toBe(`${long}end`);
    expect(wrapLines('short', 20)).toEqual(['short']);
  });
});

describe('wrapLines keeps a paragraph indented', () => {
  it('its leading spaces stay on the first line, the hanging indent on the others', () => {
    const lines = wrapLines('    → make sure the application retries transactions on SQLSTATE 40001', 30, '      ');
    expect(lines[0]).toMatch(/^ {4}→ make/);
    expect(lines.slice(1).every((l) => /^ {6}\S/.test(l))).toBe(true);
  });
});
