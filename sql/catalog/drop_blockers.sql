-- What stops DROP TABLE of $1 (oid) without CASCADE: objects with a normal dependency on the table or on its row
-- type, other than the table's own parts (its rules, constraints, triggers, policies and defaults go with it). An
-- inheritance child is named as such: CASCADE would drop it with its rows.
WITH targets AS (
  SELECT 'pg_class'::regclass AS cls, c.oid FROM pg_class c WHERE c.oid = $1
  UNION ALL
  SELECT 'pg_type'::regclass, c.reltype FROM pg_class c WHERE c.oid = $1
)
SELECT DISTINCT
  CASE
    WHEN d.classid = 'pg_rewrite'::regclass THEN (
      SELECT CASE v.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' ELSE 'rule on ' END || v.oid::regclass::text
        FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class WHERE r.oid = d.objid)
    WHEN d.classid = 'pg_class'::regclass AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = d.objid AND i.inhparent = $1)
      THEN 'table ' || d.objid::regclass::text || ' (an inheritance child: it would go with its rows)'
    ELSE pg_describe_object(d.classid, d.objid, d.objsubid)
  END AS what
FROM pg_depend d
JOIN targets t ON d.refclassid = t.cls AND d.refobjid = t.oid
WHERE d.deptype = 'n'
  AND NOT (d.classid = 'pg_class'::regclass AND d.objid = $1)
  AND NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.oid = d.objid AND r.ev_class = $1))
  AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (SELECT 1 FROM pg_constraint c WHERE c.oid = d.objid AND c.conrelid = $1))
  AND NOT (d.classid = 'pg_trigger'::regclass AND EXISTS (SELECT 1 FROM pg_trigger g WHERE g.oid = d.objid AND g.tgrelid = $1))
  AND NOT (d.classid = 'pg_policy'::regclass AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.oid = d.objid AND p.polrelid = $1))
  AND NOT (d.classid = 'pg_attrdef'::regclass AND EXISTS (SELECT 1 FROM pg_attrdef a WHERE a.oid = d.objid AND a.adrelid = $1))
ORDER BY 1
