-- Rewrite rules on a table ($1 = oid); views' own _RETURN rules are not on tables.
SELECT r.rulename AS name, pg_get_ruledef(r.oid, false) AS def
FROM pg_rewrite r
WHERE r.ev_class = $1 AND r.rulename <> '_RETURN'
ORDER BY r.rulename
