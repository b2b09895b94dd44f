-- Table-level and column-level privileges of a relation ($1 = oid), excluding the owner's implicit ones.
SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END AS grantee,
       g.privilege_type AS privilege,
       g.is_grantable AS grantable,
       NULL::text AS column_name
FROM pg_class c, aclexplode(c.relacl) g
WHERE c.oid = $1 AND g.grantee <> c.relowner
UNION ALL
SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END,
       g.privilege_type, g.is_grantable, a.attname
FROM pg_attribute a, aclexplode(a.attacl) g
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
  AND g.grantee <> (SELECT relowner FROM pg_class WHERE oid = $1)
ORDER BY 4 NULLS FIRST, 1, 2
