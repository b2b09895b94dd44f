-- Every publication that contains the table ($1 = oid): listed on its own (kind 'table'), FOR ALL TABLES ('all') or
-- through its schema ('schema', PostgreSQL 15+). Found through pg_publication_tables, which lists a partitioned
-- table's partitions instead of the table when publish_via_partition_root is off, so the whole partition tree is
-- matched (pg_partition_tree lists nothing for a table that is not partitioned: the table itself is added).
-- `partitioned`: the other partitioned tables the publication publishes (by their partitions when the option is
-- off), whose publishing publish_via_partition_root changes too.
WITH tree AS (
  SELECT n.nspname AS schemaname, c.relname AS tablename
    FROM (SELECT $1::oid AS relid UNION SELECT relid FROM pg_partition_tree($1)) t
    JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
)
SELECT p.pubname AS name,
       p.pubviaroot AS via_root,
       CASE WHEN EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prpubid = p.oid AND pr.prrelid = $1) THEN 'table'
            WHEN p.puballtables THEN 'all'
            ELSE 'schema' END AS kind,
       (SELECT COALESCE(json_agg(json_build_object('schema', x.nspname, 'name', x.relname) ORDER BY x.nspname, x.relname), '[]'::json)
          FROM (SELECT DISTINCT rn.nspname, r.relname
                  FROM pg_publication_tables pt
                  JOIN pg_namespace tn ON tn.nspname = pt.schemaname
                  JOIN pg_class tc ON tc.relnamespace = tn.oid AND tc.relname = pt.tablename
                  JOIN pg_class r ON r.oid = pg_partition_root(tc.oid)
                  JOIN pg_namespace rn ON rn.oid = r.relnamespace
                 WHERE pt.pubname = p.pubname AND r.relkind = 'p' AND r.oid <> $1) x) AS partitioned
FROM pg_publication p
WHERE EXISTS (SELECT 1 FROM pg_publication_tables pt JOIN tree USING (schemaname, tablename) WHERE pt.pubname = p.pubname)
ORDER BY p.pubname
