-- Publications the table belongs to explicitly ($1 = oid).
SELECT p.pubname AS name, p.pubviaroot AS via_root
FROM pg_publication_rel pr
JOIN pg_publication p ON p.oid = pr.prpubid
WHERE pr.prrelid = $1
ORDER BY p.pubname
