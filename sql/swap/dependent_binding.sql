-- Which tables a dependent is bound to: after the swap each must read the partitioned table ($4), never the old
-- one ($5). $1 = 'function' or 'view' (views and materialized views), $2 = its schema, $3 = its name as the
-- catalog snapshot prints it (functions: name(identity arguments)).
SELECT COALESCE(bool_or(d.refobjid = to_regclass($4)), false) AS reads_new,
       COALESCE(bool_or(d.refobjid = to_regclass($5)), false) AS reads_old
FROM pg_depend d
WHERE d.refclassid = 'pg_class'::regclass
  AND CASE WHEN $1 = 'function'
           THEN d.classid = 'pg_proc'::regclass
                AND d.objid IN (SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                 WHERE n.nspname = $2 AND p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' = $3)
           ELSE d.classid = 'pg_rewrite'::regclass
                AND d.objid IN (SELECT r.oid FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE n.nspname = $2 AND c.relname = $3)
      END
