-- Constraints defined on a relation ($1 = oid): p, u, c, x, f (outgoing), with their columns by name.
-- Inherited constraints on partitions (conparentid <> 0) are listed too, flagged, so verify can see them.
SELECT co.conname AS name,
       co.contype::text AS type,
       pg_get_constraintdef(co.oid, false) AS def,
       co.convalidated AS validated,
       co.condeferrable AS deferrable,
       co.condeferred AS deferred,
       co.conparentid <> 0 AS inherited,
       co.connoinherit AS no_inherit,
       COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum), '{}'::text[]) AS columns,
       CASE WHEN co.contype = 'f' THEN (SELECT n.nspname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = co.confrelid) END AS ref_schema,
       CASE WHEN co.contype = 'f' THEN (SELECT r.relname FROM pg_class r WHERE r.oid = co.confrelid) END AS ref_table,
       (SELECT ci.relname FROM pg_class ci WHERE ci.oid = co.conindid AND co.contype IN ('p','u','x')) AS index_name
FROM pg_constraint co
WHERE co.conrelid = $1
ORDER BY co.contype, co.conname
