-- Server, role and session facts for the prerequisites.
SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version,
       current_user AS role,
       current_database() AS database,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user) AS bypassrls,
       has_database_privilege(current_database(), 'CREATE') AS can_create_schema,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('lock_timeout') AS lock_timeout,
       (SELECT setting::int FROM pg_settings WHERE name = 'deadlock_timeout') AS deadlock_timeout_ms,
       current_setting('max_locks_per_transaction')::int AS max_locks_per_transaction,
       current_setting('wal_level') AS wal_level,
       pg_size_bytes(current_setting('max_wal_size'))::float8 AS max_wal_size_bytes,
       current_setting('checkpoint_completion_target')::float8 AS checkpoint_completion_target,
       (SELECT COALESCE(json_agg(json_build_object('role', r.rolname, 'settings', r.rolconfig)), '[]'::json)
          FROM pg_roles r WHERE r.rolconfig IS NOT NULL
           AND EXISTS (SELECT 1 FROM unnest(r.rolconfig) s WHERE s LIKE 'statement\_timeout=%' OR s LIKE 'lock\_timeout=%')) AS role_timeouts,
       (SELECT COALESCE(json_agg(json_build_object('slot', slot_name, 'active', active,
                 'retained_bytes', pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))), '[]'::json)
          FROM pg_replication_slots WHERE restart_lsn IS NOT NULL) AS replication_slots
