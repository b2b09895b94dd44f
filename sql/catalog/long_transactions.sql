-- Other sessions holding a lock on the table ($1 = oid) or open for long: they would block DDL.
SELECT a.pid, a.usename AS user_name, a.application_name, a.state,
       EXTRACT(EPOCH FROM now() - a.xact_start)::float8 AS xact_seconds,
       left(a.query, 200) AS query,
       string_agg(DISTINCT l.mode, ', ') AS modes
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.relation = $1 AND l.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL
GROUP BY a.pid, a.usename, a.application_name, a.state, a.xact_start, a.query
ORDER BY a.xact_start
