-- Sequences owned by the table's columns (serial and identity), found through pg_depend, with their owners. $1 = oid.
SELECT a.attname AS column_name,
       sn.nspname AS schema,
       s.relname AS name,
       pg_get_userbyid(s.relowner) AS owner,
       CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'owned' END AS kind
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid = $1 AND d.deptype IN ('a','i')
ORDER BY a.attnum
