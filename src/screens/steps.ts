import type { Command } from '../cli/args.js';

/** The checklist's seven steps, in order, plus rollback (reachable from every step after Create). */
export type StepId = 'check' | 'create' | 'verify' | 'test-insert' | 'migrate' | 'swap' | 'monitor' | 'rollback';

export type Confirmation = 'none' | 'y' | 'table-name';

export interface StepInfo {
  id: StepId;
  /** the key that jumps to it ('1'-'7'; rollback: 'R') */
  key: string;
  title: string;
  /** the headless command its action runs */
  command: Command;
  confirm: Confirmation;
  /** one short paragraph: what the step does and what it locks */
  about: string;
  /** journal step names whose latest record gives this step's state */
  journalSteps: string[];
}

export const STEPS: StepInfo[] = [
  {
    id: 'check', key: '1', title: 'Prerequisites', command: 'check', confirm: 'none', journalSteps: ['check'],
    about: 'Reads the catalog only: server version, privileges, keys, constraints, foreign keys, dependent objects, triggers, ' +
      'timeouts, long transactions and free space. Takes no lock beyond ACCESS SHARE and changes nothing.',
  },
  {
    id: 'create', key: '2', title: 'Create', command: 'create', confirm: 'y', journalSteps: ['create'],
    about: 'Creates the partitioned table with one partition per lookup row plus the default, RLS, grants and indexes, while it ' +
      'is empty. Locks only the new table (ACCESS EXCLUSIVE); the source is not touched. Each statement has a short lock_timeout and retries.',
  },
  {
    id: 'verify', key: '3', title: 'Verify', command: 'verify', confirm: 'none', journalSteps: ['verify', 'verify-data'],
    about: 'Compares the new structure with the source: partitions and bounds, columns, constraints, indexes, RLS and grants, ' +
      'schema drift. `d` compares the data instead (row counts and checksums per program, in one snapshot). Reads only.',
  },
  {
    id: 'test-insert', key: '4', title: 'Test insert', command: 'test-insert', confirm: 'y', journalSteps: ['test-insert'],
    about: 'Copies a sample of the largest program into the new table, compares the query plans on both tables (EXPLAIN ANALYZE: ' +
      'time, buffers, partitions scanned) and removes the sample. ROW EXCLUSIVE on the new partition only.',
  },
  {
    id: 'migrate', key: '5', title: 'Migrate', command: 'migrate', confirm: 'y', journalSteps: ['migrate'],
    about: 'Installs change capture on the source, then copies rows in batches (each batch one transaction and a journal checkpoint). ' +
      'The source keeps serving reads and writes (ROW EXCLUSIVE on the new table, a short SHARE lock on the capture log per batch).',
  },
  {
    id: 'swap', key: '6', title: 'Swap', command: 'swap', confirm: 'table-name', journalSteps: ['swap', 'finish'],
    about: 'In one transaction with a short lock_timeout, retried with backoff: renames the tables, carries over views, foreign keys, ' +
      'policies, grants, triggers and publications, applies the last captured changes. Takes ACCESS EXCLUSIVE on both tables for a moment.',
  },
  {
    id: 'monitor', key: '7', title: 'Monitor', command: 'monitor', confirm: 'none', journalSteps: ['maintain'],
    about: 'Partition sizes from the catalog at the chosen interval (one catalog query per refresh, no lock on the tables). ' +
      'Rows in the default partition mean a missing partition: partwise maintain fixes it.',
  },
];

export const ROLLBACK: StepInfo = {
  id: 'rollback', key: 'R', title: 'Rollback', command: 'rollback', confirm: 'table-name', journalSteps: ['rollback'],
  about: 'Before the swap: drops the new table, its partitions and the capture machinery (the source stays exactly as it was). ' +
    'After the swap: swaps back in one short transaction, keeping every write made since. ACCESS EXCLUSIVE on both tables for a moment.',
};

export function stepInfo(id: StepId): StepInfo {
  return id === 'rollback' ? ROLLBACK : STEPS.find((s) => s.id === id)!;
}
