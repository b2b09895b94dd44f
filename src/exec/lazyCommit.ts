/**
 * The copy's and the replay's transactions commit without waiting for their WAL to reach the disk
 * (`synchronous_commit = off` for that transaction only). Why: there is one WAL stream, and every commit that waits
 * for a flush holds the WAL write lock while the application's commits queue behind it. The benchmark measured, at
 * 5,000 rows/s under pgbench, the application's p99 7.5-7.9 ms with these commits lazy against 8.6-9.7 ms with them
 * flushed (three pairs), and the guard's probe p90 1.2-2.0 ms against 2.2-2.5 ms.
 *
 * Why it is safe: a crash loses only the last few such transactions, each whole. A batch and its checkpoint row commit
 * together, so the copy resumes from the last batch that reached the disk; a replay deletes its log entries in the
 * transaction that applies them, so a lost replay leaves them in the log to be replayed again. Nothing else (steps,
 * the swap, the journal's phases) changes: they commit as the server is set, and each such commit flushes every lazy
 * commit before it.
 */
export const LAZY_COMMIT: [string, string] = ['synchronous_commit', 'off'];
