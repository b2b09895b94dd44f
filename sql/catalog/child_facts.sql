-- What the catalog shows of one child partwise carries (src/plan/carryChildren.ts): $1 the child (regclass text),
-- $2 the key column, $3 the fill function (regprocedure text), $4 the fill trigger, $5 the source (regclass text),
-- $6 the source's key-following trigger, $7 partwise's index (regclass text), $8 the foreign key's columns then the key.
SELECT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped) AS column_exists,
       to_regprocedure($3) IS NOT NULL AS fill_function,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = to_regclass($1) AND t.tgname = $4) AS fill_trigger,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = to_regclass($5) AND t.tgname = $6) AS sync_trigger,
       (SELECT jsonb_build_object('valid', x.indisvalid) FROM pg_index x WHERE x.indexrelid = to_regclass($7)) AS index,
       EXISTS (SELECT 1 FROM pg_index x
                WHERE x.indrelid = to_regclass($1) AND x.indisvalid AND x.indpred IS NULL AND x.indnkeyatts >= cardinality($8::text[])
                  AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM unnest((x.indkey::int2[])[0:cardinality($8::text[]) - 1]) k(attnum)
                         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum)
                      = (SELECT array_agg(c ORDER BY c) FROM unnest($8::text[]) c)) AS covered
