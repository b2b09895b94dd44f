/** Human sizes and durations, shared by the printer and the screens. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The bar's characters: full blocks for done, light shade for the rest (readable without color). */
export function barText(ratio: number, width: number): string {
  const w = Math.max(1, width);
  const r = Number.isFinite(ratio) ? Math.max(0, Math.min(1, ratio)) : 0;
  const full = Math.round(r * w);
  return '█'.repeat(full) + '░'.repeat(w - full);
}

/** A transfer's rows and bytes as one line with a bar for each total that is known (archive, restore). */
export function transferLine(t: { what: string; rows: number; totalRows: number | null; bytes: number; totalBytes: number | null }): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const rows = t.totalRows ? `${barText(t.rows / t.totalRows, 20)} ${n(t.rows)}/${n(t.totalRows)} rows` : `${n(t.rows)} rows`;
  const bytes = t.totalBytes ? `${barText(t.bytes / t.totalBytes, 20)} ${formatBytes(t.bytes)}/${formatBytes(t.totalBytes)}` : formatBytes(t.bytes);
  return `${t.what} ${rows} · ${bytes}`;
}
