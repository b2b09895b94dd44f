-- One relation's identity and table-level properties. $1 = schema, $2 = name.
-- Runs with search_path = pg_catalog so every name printed by pg_get_* is schema-qualified.
SELECT c.oid::int8 AS oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS relkind,
       c.relispartition AS is_partition,
       c.relrowsecurity AS rls,
       c.relforcerowsecurity AS rls_forced,
       c.relreplident::text AS replica_identity,
       (SELECT ri.relname FROM pg_index x JOIN pg_class ri ON ri.oid = x.indexrelid
         WHERE x.indrelid = c.oid AND x.indisreplident) AS replica_identity_index,
       pg_get_userbyid(c.relowner) AS owner,
       obj_description(c.oid, 'pg_class') AS comment,
       c.reltuples::float8 AS reltuples,
       pg_total_relation_size(c.oid)::int8 AS total_bytes,
       pg_relation_size(c.oid)::int8 AS table_bytes,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2
