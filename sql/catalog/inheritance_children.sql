-- Tables that INHERIT from a relation ($1 = oid), partitions excluded: a query on the parent without ONLY reads
-- their rows, but no step copies them.
SELECT n.nspname AS schema,
       c.relname AS name,
       c.reltuples::float8 AS reltuples
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = $1 AND NOT c.relispartition
ORDER BY 1, 2
