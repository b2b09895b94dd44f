-- Indexes of relations ($1 = oid[]: one table, or every partition in one read). "method_and_columns" is pg_get_indexdef without its
-- "CREATE [UNIQUE] INDEX name ON [ONLY] table USING " prefix, cut by exact length (never by searching
-- for a keyword that a hostile name could contain).
SELECT x.indrelid::int8 AS relid,
       ci.relname AS name,
       x.indisunique AS is_unique,
       x.indisprimary AS is_primary,
       EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = x.indexrelid AND co.conrelid = x.indrelid) AS backs_constraint,
       x.indpred IS NOT NULL AS is_partial,
       x.indexprs IS NOT NULL AS has_expressions,
       x.indisvalid AS is_valid,
       pg_get_indexdef(x.indexrelid) AS def,
       substr(pg_get_indexdef(x.indexrelid), length(prefix.p) + 1) AS method_and_columns,
       left(pg_get_indexdef(x.indexrelid), length(prefix.p)) = prefix.p AS prefix_ok,
       COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                  WHERE k.attnum > 0 AND k.ord <= x.indnkeyatts), '{}'::text[]) AS key_columns,
       (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = x.indexrelid)::int AS attached_children,
       -- a btree on plain columns with their default operator classes, collations and order, no INCLUDE, no
       -- predicate, NULLs distinct: exactly "btree (columns)", so the key can be appended without changing its meaning
       am.amname = 'btree' AND x.indexprs IS NULL AND x.indpred IS NULL AND x.indnkeyatts = x.indnatts
         AND NOT COALESCE((to_jsonb(x) ->> 'indnullsnotdistinct')::boolean, false)
         AND NOT EXISTS (SELECT 1
                           FROM unnest(x.indkey::int2[], x.indclass::oid[], x.indcollation::oid[], x.indoption::int2[]) AS k(attnum, opclass, coll, opt)
                           JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                           JOIN pg_opclass oc ON oc.oid = k.opclass
                          WHERE k.opt <> 0 OR NOT oc.opcdefault OR k.coll <> a.attcollation) AS plain_btree
FROM pg_index x
JOIN pg_class ci ON ci.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_am am ON am.oid = ci.relam
CROSS JOIN LATERAL (
  SELECT 'CREATE ' || CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || quote_ident(ci.relname)
         || ' ON ' || CASE WHEN t.relkind = 'p' THEN 'ONLY ' ELSE '' END || t.oid::regclass::text || ' USING ' AS p
) prefix
WHERE x.indrelid = ANY ($1::oid[])
ORDER BY x.indrelid, ci.relname
