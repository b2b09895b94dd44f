-- Objects bound to the table by OID (docs/behaviours/rename-leaves-oid-bindings-behind.md): views and materialized
-- views (through their rewrite rules) and SQL functions with BEGIN ATOMIC bodies (PG14+), found through pg_depend.
-- $1 = oid.
-- options/owner/comment/index_defs/grants let the swap recreate a view or materialized view exactly
-- (CREATE OR REPLACE VIEW resets reloptions such as security_invoker unless they are given again).
SELECT DISTINCT
       CASE v.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' END AS kind,
       vn.nspname AS schema,
       v.relname AS name,
       pg_get_viewdef(v.oid, false) AS def,
       v.reloptions::text[] AS options,
       pg_get_userbyid(v.relowner)::text AS owner,
       obj_description(v.oid, 'pg_class') AS comment,
       ARRAY(SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x WHERE x.indrelid = v.oid ORDER BY x.indexrelid)::text[] AS index_defs,
       (SELECT COALESCE(json_agg(json_build_object(
                 'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee)::text END,
                 'privilege', g.privilege_type, 'grantable', g.is_grantable, 'columnName', NULL)
                 ORDER BY g.grantee, g.privilege_type)::text, '[]')
          FROM aclexplode(v.relacl) g WHERE g.grantee <> v.relowner) AS grants
FROM pg_depend d
JOIN pg_rewrite rw ON rw.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
JOIN pg_class v ON v.oid = rw.ev_class
JOIN pg_namespace vn ON vn.oid = v.relnamespace
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND v.oid <> $1 AND v.relkind IN ('v','m')
UNION
SELECT DISTINCT 'function', pn.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_functiondef(p.oid), NULL::text[], NULL::text, NULL::text, NULL::text[], NULL::text
FROM pg_depend d
JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1
ORDER BY 1, 2, 3
