/** partwise --help and partwise <command> --help, derived from the step registry. */
import { STEP_LIST, stepByCommand } from '../registry/index.js';
import type { AnyStep } from '../registry/index.js';

const wrap = (text: string, width: number, indent: string): string[] => {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
};

const flagText = (f: AnyStep['flags'][number]) => `--${f.name}${f.value ? ` ${f.value}` : ''}`;

const COMMON = `Connection (first found wins):
  --url URL                postgres://user:password@host:port/db?sslmode=require
  DATABASE_URL             the same, from the environment
  PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE and ~/.pgpass
  none of these            an embedded PostgreSQL 17 with a demo dataset (rehearsal)

Table options (defaults: the first user's case; also read from partwise.config.json):
  --schema public  --table petri_observations  --key program_id
  --lookup pilot_programs  --lookup-schema <schema>  --lookup-key program_id  --lookup-label name
  --new-table <table>_partitioned  --old-table <table>_old
  --partition-name 'petri_obs_prog_{key}'  --default-partition petri_obs_default
  --config FILE            config file (default ./partwise.config.json when present)
  --no-auto-partition      no trigger creating partitions for new lookup rows
  --publish-via-root       the swap sets publish_via_partition_root = true on the table's publications (their
                           subscribers keep receiving its changes under its name; see partwise check)

Execution:
  --yes, -y                run changes without asking (required when not interactive)
  --json                   NDJSON events and result
  --lock-timeout MS        lock_timeout for each DDL attempt (default 1500)
  --lock-retries N         attempts per DDL step (default 10)

Embedded rehearsal database (one server per data directory, shared by every partwise process;
PARTWISE_EMBEDDED_DIR moves it):
  --demo-rows N (1000000)  --demo-programs N (12)  --demo-reset

Exit codes: 0 ok, 1 failed, 2 usage error, 3 checks failed or refused (the state does not allow the step now)
`;

export function mainHelp(): string {
  const rows = STEP_LIST.map((s) => {
    const head = `  ${s.command.padEnd(13)}  `;
    const flags = s.flags.length ? ` (${s.flags.map(flagText).join(', ')})` : '';
    const text = `${s.summary}${s.changes ? ' [changes: --yes]' : ''}${flags}`;
    const [first, ...more] = wrap(text, 100, '');
    return [head + first, ...more.flatMap((l) => wrap(l, 100, ' '.repeat(head.length)))].join('\n');
  });
  return `partwise — turn a live PostgreSQL table into a LIST-partitioned table, step by step

Usage: partwise [command] [options]
       partwise <command> --help      the command's own options

With no command on a terminal, partwise opens the checklist app.

Commands (headless; --json prints one JSON object per line: events, then a result):
${rows.join('\n')}
  watch          read-only view of a migration another terminal runs
  demo stop      stop the embedded rehearsal database (it keeps running for every partwise
                 process until then)

${COMMON}`;
}

export function commandHelp(command: string): string {
  if (command === 'demo') return `Usage: partwise demo stop\n\nStops the embedded rehearsal database (it keeps running for every partwise process until then).\n`;
  if (command === 'watch') return `Usage: partwise watch [options]\n\nThe checklist app, read-only: another terminal runs the migration, this one follows it.\n\n${COMMON}`;
  const s = stepByCommand(command);
  if (!s) return mainHelp();
  const flags = s.flags.map((f) => {
    const head = `  ${flagText(f).padEnd(28)} `;
    return wrap(f.help, 70, '').map((l, i) => (i === 0 ? head : ' '.repeat(head.length)) + l).join('\n');
  });
  return [
    `Usage: partwise ${s.command}${s.flags.length ? ' [its options]' : ''}${s.changes ? ' --yes' : ''} [options]`,
    '',
    `${s.title}${s.key ? ` (key ${s.key} in the app)` : ''}: ${s.summary}.`,
    ...wrap(s.about, 100, ''),
    ...(s.changes ? ['', 'It changes the database: without a terminal it needs --yes; on a terminal it asks first.'] : []),
    ...(flags.length ? ['', `Options of ${s.command}:`, ...flags] : []),
    '',
    COMMON,
  ].join('\n');
}
