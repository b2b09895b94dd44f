-- Table-level and column-level privileges of relations ($1 = oid[]: one table, or every partition in one read),
-- excluding the owner's implicit ones.
SELECT c.oid::int8 AS relid,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END AS grantee,
       g.privilege_type AS privilege,
       g.is_grantable AS grantable,
       NULL::text AS column_name
FROM pg_class c, aclexplode(c.relacl) g
WHERE c.oid = ANY ($1::oid[]) AND g.grantee <> c.relowner
UNION ALL
SELECT a.attrelid::int8, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END,
       g.privilege_type, g.is_grantable, a.attname
FROM pg_attribute a, aclexplode(a.attacl) g
WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
  AND g.grantee <> (SELECT relowner FROM pg_class WHERE oid = a.attrelid)
ORDER BY 1, 5 NULLS FIRST, 2, 3
