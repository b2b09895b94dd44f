-- Foreign keys in other tables that reference this one ($1 = oid). Only top-level constraints
-- (a partitioned referencing table has one clone per partition, conparentid <> 0).
SELECT co.conname AS name,
       n.nspname AS from_schema,
       r.relname AS from_table,
       pg_get_constraintdef(co.oid, false) AS def,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(co.confkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum) AS ref_columns
FROM pg_constraint co
JOIN pg_class r ON r.oid = co.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE co.contype = 'f' AND co.confrelid = $1 AND co.conparentid = 0 AND co.conrelid <> $1
ORDER BY n.nspname, r.relname, co.conname
