-- Sequences owned by the table's columns (serial and identity), found through pg_depend, with their owners and privileges. $1 = oid.
SELECT a.attname AS column_name,
       sn.nspname AS schema,
       s.relname AS name,
       pg_get_userbyid(s.relowner) AS owner,
       -- its privileges, the owner's own left out (as grants.sql does for tables)
       COALESCE((SELECT json_agg(json_build_object('grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END,
                                                   'privilege', g.privilege_type, 'grantable', g.is_grantable, 'columnName', NULL)
                                 ORDER BY g.grantee, g.privilege_type)
                   FROM aclexplode(s.relacl) g WHERE g.grantee <> s.relowner), '[]'::json) AS grants,
       CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'owned' END AS kind
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid = $1 AND d.deptype IN ('a','i')
ORDER BY a.attnum
