/**
 * Text broken into lines of at most `width` columns at spaces (a word longer than a line is split), so that a
 * windowed list can count the rows it shows: warnings and messages wrap instead of being cut with "…".
 * `indent` starts every line after the first (a hanging indent under a sign such as "✔ ").
 */
export function wrapLines(text: string, width: number, indent = ''): string[] {
  const w = Math.max(8, width);
  const len = (s: string) => [...s].length;
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    // a paragraph's own leading spaces (an indented "→ what to do") stay on its first line
    const lead = /^ */.exec(paragraph)![0];
    let line = lead;
    let first = true;
    const limit = () => (first ? w : Math.max(4, w - len(indent)));
    const flush = () => {
      out.push((first ? '' : indent) + line);
      line = '';
      first = false;
    };
    for (let word of paragraph.slice(lead.length).split(' ')) {
      while (len(word) > limit()) {
        // a word wider than a line (a long name): fill this line with its start, carry the rest
        const room = limit() - (line.trim() ? len(line) + 1 : len(line));
        if (room < 1) {
          flush();
          continue;
        }
        line += (line.trim() ? ' ' : '') + [...word].slice(0, room).join('');
        word = [...word].slice(room).join('');
        flush();
      }
      if (line.trim() && len(line) + 1 + len(word) > limit()) flush();
      line += (line.trim() ? ' ' : '') + word;
    }
    flush();
  }
  return out;
}
