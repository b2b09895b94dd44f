import type { CheckItem, EngineEvent } from '../events.js';
import { formatDuration, transferLine } from '../format.js';
import { partitionSizeLines } from '../monitor/sizeTable.js';
import { mapStrings, safeJson, shown, shownBlock } from '../text/safe.js';

export interface Printer {
  emit(e: EngineEvent): void;
}

interface PrinterOptions {
  json: boolean;
  color: boolean;
  out: (line: string) => void;
  /** where human lines other than scripts go (stderr for plan, so stdout is a clean SQL script) */
  note?: (line: string) => void;
}

const paint = (on: boolean, code: number, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/**
 * Every string of an event may come from the database (labels, keys, names, server messages): in human lines each
 * is shown on one line with its control characters escaped; a script keeps its line breaks.
 */
function terminalSafe(e: EngineEvent): EngineEvent {
  if (e.type === 'script') return { ...e, sql: shownBlock(e.sql) };
  if (e.type === 'step.fail' && e.error.statement?.includes('\n')) {
    // the statement's first line stands for it (the whole of it is in --json)
    return mapStrings({ ...e, error: { ...e.error, statement: `${e.error.statement.split('\n')[0]} …` } }, shown);
  }
  return mapStrings(e, shown);
}

/** The headless face: human lines, or NDJSON (one event per line, no raw control character) with --json. */
export function createPrinter(o: PrinterOptions): Printer {
  const red = (s: string) => paint(o.color, 31, s);
  const green = (s: string) => paint(o.color, 32, s);
  const yellow = (s: string) => paint(o.color, 33, s);
  const dim = (s: string) => paint(o.color, 2, s);
  const mark = (i: CheckItem) => (i.status === 'ok' ? green('ok  ') : i.status === 'warn' ? yellow('warn') : red('FAIL'));
  const human = (e: EngineEvent): string[] => {
    switch (e.type) {
      case 'info':
        return [e.message];
      case 'script':
        return [e.sql];
      case 'warn':
        return [yellow(`warning: ${e.message}`)];
      case 'connected':
        return [dim(`connected to ${e.target} (PostgreSQL ${e.version})${e.embedded ? ' — embedded rehearsal database' : ''}`)];
      case 'check':
      case 'verify': {
        const i = e.item;
        const lines = [`${mark(i)}  ${i.title}: ${i.reason}`];
        for (const d of i.details ?? []) lines.push(dim(`        ${d}`));
        if (i.todo && i.status !== 'ok') lines.push(`        -> ${i.todo}`);
        return lines;
      }
      case 'step.start':
        return [`...   ${e.title}`];
      case 'step.skip':
        return [dim(`skip  ${e.title} (${e.reason})`)];
      case 'step.retry': {
        const who = e.blockers.map((b) => `pid ${b.pid} (${b.state ?? '?'}: ${b.query ?? ''})`).join(', ');
        return [yellow(`wait  ${e.step}: ${e.message}; attempt ${e.attempt}/${e.attempts}, retrying in ${formatDuration(e.delayMs)}${who ? `; blocked by ${who}` : ''}`)];
      }
      case 'step.done':
        return [`${green('done')}  ${e.title} ${dim(formatDuration(e.ms))}`];
      case 'step.fail': {
        const x = e.error;
        const lines = [red(`FAIL  ${e.title}: ${x.message}`)];
        if (x.statement) lines.push(`      statement: ${x.statement}`);
        if (x.serverDetail) lines.push(`      detail: ${x.serverDetail}`);
        if (x.serverHint) lines.push(`      hint: ${x.serverHint}`);
        if (x.unchanged) lines.push(`      unchanged: ${x.unchanged}`);
        if (x.todo) lines.push(`      -> ${x.todo}`);
        return lines;
      }
      case 'partition.sizes':
        return partitionSizeLines(e.sizes).map((l) => (l.warn ? yellow(l.text) : l.text));
      case 'result':
        {
        const text = `${e.summary}${e.next ? `. Next: partwise ${e.next}` : ''}`;
        return [e.ok ? green(text) : red(text)];
      }
      case 'progress':
        return [dim(`      ${e.label ?? e.program}: ${e.copied}/${e.total} ${e.state}${e.rowsPerSec ? `, ${Math.round(e.rowsPerSec)} rows/s` : ''}`)];
      case 'transfer':
        return [dim(`      ${transferLine(e)}`)];
      case 'child.progress':
        return [dim(`      back-fill ${e.child}: ${e.filled} row(s) set, block ${e.blocksDone}/${e.blocks} ${e.state}${e.rowsPerSec ? `, ${Math.round(e.rowsPerSec)} rows/s` : ''}`)];
      case 'progress.overall':
        return [`      overall ${e.copied}/${e.total}${e.rowsPerSec ? `, ${Math.round(e.rowsPerSec)} rows/s` : ''}${e.etaSec !== null ? `, ETA ${formatDuration(e.etaSec * 1000)}` : ''}, backlog ${e.backlog}${e.paused ? ', PAUSED' : ''}`];
    }
  };
  return {
    emit(e) {
      if (o.json) o.out(safeJson(JSON.stringify(e)));
      else for (const l of human(terminalSafe(e))) (e.type === 'script' ? o.out : (o.note ?? o.out))(l);
    },
  };
}
