/**
 * The test environment is explicit: nothing from the developer's shell decides where a test connects or where an
 * embedded server lives. libpq's PG* variables are read by node-postgres itself (PGSSLMODE, PGOPTIONS, PGPASSWORD...)
 * and by partwise; DATABASE_URL and PARTWISE_EMBEDDED_DIR by partwise.
 */

/** Whether this variable would change what a test connects to, or where partwise keeps its embedded server. */
export function isLeakyEnvVar(name: string): boolean {
  return name === 'DATABASE_URL' || name === 'PARTWISE_EMBEDDED_DIR' || /^PG[A-Z_]+$/.test(name);
}

/** Removes those variables from `env` in place (the test workers' process.env). */
export function clearLeakyEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of Object.keys(env)) if (isLeakyEnvVar(name)) delete env[name];
}

/**
 * The environment for a process a test spawns (the CLI, tmux): this process's, without the leaky variables, plus
 * `extra` (an undefined value removes a variable). Whatever the test wants the CLI to use, it passes in `extra`.
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  clearLeakyEnv(env);
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** `env -u NAME ... NAME=value ...`: a shell command prefix giving a command run by tmux the same explicit environment. */
export function envPrefix(extra: Record<string, string | undefined> = {}): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const unset = [...new Set([...Object.keys(process.env).filter(isLeakyEnvVar), 'DATABASE_URL', 'PARTWISE_EMBEDDED_DIR', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE', 'PGPASSFILE', 'PGSERVICE'])];
  const removed = Object.entries(extra).filter(([, v]) => v === undefined).map(([k]) => k);
  const set = Object.entries(extra).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${quote(v!)}`);
  return ['env', ...[...unset, ...removed].map((k) => `-u ${k}`), ...set].join(' ');
}
