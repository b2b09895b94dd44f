-- Roles that default privileges grant new tables to, when the current role creates a table in schema $1.
-- Supabase grants ALL to anon/authenticated/service_role this way
-- (docs/behaviours/default-privileges-reach-new-tables-and-partitions.md).
SELECT DISTINCT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END AS grantee
FROM pg_default_acl da, aclexplode(da.defaclacl) g
WHERE da.defaclobjtype = 'r'
  AND da.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND (da.defaclnamespace = 0 OR da.defaclnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1))
  AND g.grantee <> da.defaclrole
