-- Foreign keys in other tables that reference this one ($1 = oid). Only top-level constraints
-- (a partitioned referencing table has one clone per partition, conparentid <> 0). With what partwise needs to carry
-- one that lacks the partition key (src/plan/carryChildren.ts): its actions, match type and deferrability, and the
-- referencing table's kind, inheritance, owner and columns.
SELECT co.conname AS name,
       n.nspname AS from_schema,
       r.relname AS from_table,
       pg_get_constraintdef(co.oid, false) AS def,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(co.confkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum) AS ref_columns,
       co.confupdtype::text AS on_update,
       co.confdeltype::text AS on_delete,
       co.confmatchtype::text AS match_type,
       co.condeferrable AS deferrable,
       co.condeferred AS deferred,
       co.convalidated AS validated,
       r.relkind::text AS from_relkind,
       r.relispartition AS from_is_partition,
       EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = r.oid OR i.inhparent = r.oid) AS from_inherits,
       pg_get_userbyid(r.relowner) AS from_owner,
       pg_has_role(r.relowner, 'USAGE') AS from_owner_member,
       (SELECT COALESCE(array_agg(a.attname::text ORDER BY a.attnum), '{}') FROM pg_attribute a
         WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped) AS from_all_columns
FROM pg_constraint co
JOIN pg_class r ON r.oid = co.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE co.contype = 'f' AND co.confrelid = $1 AND co.conparentid = 0 AND co.conrelid <> $1
ORDER BY n.nspname, r.relname, co.conname
