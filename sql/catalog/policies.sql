-- RLS policies on relations ($1 = oid[]: one table, or every partition in one read).
SELECT pol.polrelid::int8 AS relid,
       pol.polname AS name,
       pol.polcmd::text AS cmd,
       pol.polpermissive AS permissive,
       CASE WHEN pol.polroles = '{0}'::oid[] THEN ARRAY['PUBLIC']
            ELSE (SELECT array_agg(rolname::text ORDER BY rolname) FROM pg_roles WHERE oid = ANY (pol.polroles)) END AS roles,
       pg_get_expr(pol.polqual, pol.polrelid) AS using_expr,
       pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr
FROM pg_policy pol
WHERE pol.polrelid = ANY ($1::oid[])
ORDER BY pol.polrelid, pol.polname
