-- Partitions of a partitioned table ($1 = oid) from pg_inherits (never from name patterns), with bounds and sizes.
SELECT c.oid::int8 AS oid,
       n.nspname AS schema,
       c.relname AS name,
       pg_get_expr(c.relpartbound, c.oid) AS bound,
       c.relpartbound IS NOT NULL AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
       c.relkind::text AS relkind,
       pg_get_userbyid(c.relowner) AS owner,
       c.relrowsecurity AS rls,
       c.relforcerowsecurity AS rls_forced,
       c.reltuples::float8 AS reltuples,
       pg_relation_size(c.oid)::int8 AS table_bytes,
       pg_indexes_size(c.oid)::int8 AS index_bytes,
       pg_total_relation_size(c.oid)::int8 AS total_bytes
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = $1
ORDER BY c.relname
