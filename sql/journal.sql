-- partwise's journal: a small schema in the target database, so that any terminal and any later run
-- sees the same state. Idempotent; run before any change.
CREATE SCHEMA IF NOT EXISTS partwise;
REVOKE ALL ON SCHEMA partwise FROM PUBLIC;

-- One row per migration (a source table turned into a partitioned one).
CREATE TABLE IF NOT EXISTS partwise.migration (
  id            bigserial PRIMARY KEY,
  source_schema text NOT NULL,
  source_table  text NOT NULL,
  new_table     text NOT NULL,
  config        jsonb NOT NULL,
  -- unused: where the migration stands is derived from step_log and the catalog (src/state/migrationState.ts)
  phase         text NOT NULL DEFAULT 'created',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_schema, source_table)
);

-- Every step run: started, finished or failed, with what happened.
CREATE TABLE IF NOT EXISTS partwise.step_log (
  id           bigserial PRIMARY KEY,
  migration_id bigint NOT NULL REFERENCES partwise.migration ON DELETE CASCADE,
  step         text NOT NULL,
  status       text NOT NULL CONSTRAINT step_log_status_check CHECK (status IN ('running', 'done', 'failed', 'skipped', 'interrupted')),
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  detail       jsonb NOT NULL DEFAULT '{}',
  error        text,
  pid          int NOT NULL DEFAULT pg_backend_pid()
);
CREATE INDEX IF NOT EXISTS step_log_migration_step ON partwise.step_log (migration_id, step, id);
-- 'interrupted' (a long step stopped at a safe point on a signal or quit) came later: a journal written by an
-- earlier version gets it here, once (the catalog lookup costs nothing on later runs).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'partwise.step_log'::regclass AND contype = 'c'
                    AND pg_get_constraintdef(oid) LIKE '%interrupted%') THEN
    ALTER TABLE partwise.step_log DROP CONSTRAINT IF EXISTS step_log_status_check;
    ALTER TABLE partwise.step_log ADD CONSTRAINT step_log_status_check
      CHECK (status IN ('running', 'done', 'failed', 'skipped', 'interrupted'));
  END IF;
END $$;

-- Live controls of a running migration, changed from any terminal (pause / resume, rate, batch size);
-- the copy loop reads them between batches.
CREATE TABLE IF NOT EXISTS partwise.control (
  migration_id bigint PRIMARY KEY REFERENCES partwise.migration ON DELETE CASCADE,
  paused       boolean NOT NULL DEFAULT false,
  batch_size   int NOT NULL DEFAULT 10000 CHECK (batch_size BETWEEN 1 AND 1000000),
  max_rate     int CHECK (max_rate IS NULL OR max_rate > 0),
  sleep_ms     int NOT NULL DEFAULT 0 CHECK (sleep_ms >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The live copy (migrate): one checkpoint per scope ('all', 'key:<key text>' for one program, 'rest' for keys
-- without a lookup row), written in the same transaction as the batch it describes, so a killed process resumes
-- without gaps or duplicates. Positions are heap blocks of the source's current file (filenode): a rewrite of the
-- source (TRUNCATE, VACUUM FULL, CLUSTER, a rewriting ALTER TABLE) changes the filenode and restarts the scope.
CREATE TABLE IF NOT EXISTS partwise.copy_checkpoint (
  migration_id bigint NOT NULL REFERENCES partwise.migration ON DELETE CASCADE,
  scope        text NOT NULL,
  filenode     oid NOT NULL,
  end_block    bigint NOT NULL,
  next_block   bigint NOT NULL DEFAULT 0,
  copied       bigint NOT NULL DEFAULT 0,
  done         boolean NOT NULL DEFAULT false,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration_id, scope)
);

-- Rows the copy inserted per program (key text), for progress; updated with each batch.
CREATE TABLE IF NOT EXISTS partwise.copy_progress (
  migration_id bigint NOT NULL REFERENCES partwise.migration ON DELETE CASCADE,
  program      text NOT NULL,
  copied       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (migration_id, program)
);

-- The latency guard's probe (migrate --max-latency-ratio): one row per migration, updated ten times a second in a
-- transaction of its own. The update writes WAL, so the probe's commit waits for a WAL flush like an application's
-- (a transaction that only takes an xid writes no WAL and commits without one). fillfactor 50: the updates stay HOT.
CREATE TABLE IF NOT EXISTS partwise.latency_probe (
  migration_id bigint PRIMARY KEY REFERENCES partwise.migration ON DELETE CASCADE,
  probed_at    timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 50);

-- Results of verify --data: swap refuses unless the latest one is ok.
CREATE TABLE IF NOT EXISTS partwise.data_verification (
  id           bigserial PRIMARY KEY,
  migration_id bigint NOT NULL REFERENCES partwise.migration ON DELETE CASCADE,
  verified_at  timestamptz NOT NULL DEFAULT now(),
  ok           boolean NOT NULL,
  programs     int NOT NULL,
  rows_compared bigint NOT NULL,
  pending      bigint NOT NULL,
  mismatches   jsonb NOT NULL DEFAULT '[]'
);

-- Who is copying (migrate): one lease per migration, held by one partwise process. A session advisory lock would
-- stay on a pooled server connection after the process is gone; a row cannot. A heartbeat session of the holder
-- renews it every few seconds; it is free once it expires or once the heartbeat's server process is gone.
CREATE TABLE IF NOT EXISTS partwise.run_lease (
  migration_id  bigint PRIMARY KEY REFERENCES partwise.migration ON DELETE CASCADE,
  token         uuid NOT NULL,
  holder        text NOT NULL,
  backend_pid   int NOT NULL,
  backend_start timestamptz,
  acquired_at   timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);

-- The catalog row versions (xmin) of the change-capture triggers, recorded in the transaction that installed them.
-- Disabling and enabling a trigger rewrites its pg_trigger row (docs/behaviours/trigger-toggle-rewrites-catalog-row.md):
-- a different version later means capture may have been off for a while, so the copy may lack writes.
CREATE TABLE IF NOT EXISTS partwise.capture_baseline (
  migration_id bigint NOT NULL REFERENCES partwise.migration ON DELETE CASCADE,
  direction    text NOT NULL CHECK (direction IN ('forward', 'reverse')),
  trigger_name text NOT NULL,
  trigger_oid  oid NOT NULL,
  row_version  text NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration_id, direction, trigger_name)
);

-- The structural fingerprint (src/move/structure.ts) a verify --data saw: the swap refuses when the tables differ
-- from it under its locks.
CREATE TABLE IF NOT EXISTS partwise.verified_structure (
  verification_id bigint PRIMARY KEY REFERENCES partwise.data_verification ON DELETE CASCADE,
  fingerprint     jsonb NOT NULL
);

-- Programs archived (partwise archive) and restored (partwise restore): one row per program, its phase written as
-- each part of the work is done, so a run that was interrupted is resumed by the next one from what it finished.
-- archive: detaching -> detached -> written -> verified -> archived; restore: restoring -> loaded -> restored.
-- While a program is 'archived' its lookup row stays and its new rows go to the default partition: maintain leaves
-- it alone (restore brings its partition back), check and monitor say so.
CREATE TABLE IF NOT EXISTS partwise.archive (
  migration_id bigint NOT NULL REFERENCES partwise.migration ON DELETE CASCADE,
  program      text NOT NULL,
  label        text,
  partition    text NOT NULL,
  path         text NOT NULL,
  phase        text NOT NULL CHECK (phase IN ('detaching', 'detached', 'written', 'verified', 'archived', 'restoring', 'loaded', 'restored')),
  rows         bigint,
  checksum     text,
  sha256       text,
  kept_table   boolean NOT NULL DEFAULT false,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration_id, program)
);

-- The back-fill of the key column partwise adds to a table whose foreign key into the source lacks the key
-- (src/move/childBackfill.ts): one checkpoint per child, written in the same transaction as the batch it describes,
-- so a killed process resumes where it stopped. Positions are heap blocks of the child's file (filenode): a rewrite
-- of the child starts it over (rows already filled are skipped).
CREATE TABLE IF NOT EXISTS partwise.child_backfill (
  migration_id bigint NOT NULL REFERENCES partwise.migration ON DELETE CASCADE,
  child        text NOT NULL,
  filenode     oid NOT NULL,
  end_block    bigint NOT NULL,
  next_block   bigint NOT NULL DEFAULT 0,
  filled       bigint NOT NULL DEFAULT 0,
  done         boolean NOT NULL DEFAULT false,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration_id, child)
);
