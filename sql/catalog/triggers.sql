-- Non-internal triggers on a relation ($1 = oid), with their function's source so the planner can spot a
-- BEFORE trigger that assigns the partition key (docs/behaviours/before-trigger-cannot-move-a-row.md).
SELECT tg.tgname AS name,
       pg_get_triggerdef(tg.oid, false) AS def,
       tg.tgenabled::text AS enabled,
       (tg.tgtype & 2) <> 0 AS before,
       (tg.tgtype & 1) <> 0 AS for_each_row,
       (tg.tgtype & 4) <> 0 AS on_insert,
       (tg.tgtype & 16) <> 0 AS on_update,
       (tg.tgtype & 8) <> 0 AS on_delete,
       (tg.tgtype & 32) <> 0 AS on_truncate,
       fn.nspname AS function_schema,
       p.proname AS function_name,
       p.prosrc AS function_source,
       tg.tgparentid <> 0 AS inherited
FROM pg_trigger tg
JOIN pg_proc p ON p.oid = tg.tgfoid
JOIN pg_namespace fn ON fn.oid = p.pronamespace
WHERE tg.tgrelid = $1 AND NOT tg.tgisinternal
ORDER BY tg.tgname
