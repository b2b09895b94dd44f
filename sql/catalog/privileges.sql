-- What the current role may do. $1 = qualified source name, $2 = schema, $3 = qualified lookup name (may be null).
SELECT has_table_privilege($1, 'SELECT') AS source_select,
       has_table_privilege($1, 'TRIGGER') AS source_trigger,
       pg_has_role((SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass($1)), 'MEMBER') AS source_owner_member,
       has_schema_privilege($2, 'CREATE') AS schema_create,
       -- ALTER ... OWNER TO the source's owner (done by a role that is not superuser) needs it for the new table
       (SELECT has_schema_privilege(relowner, $2, 'CREATE') FROM pg_class WHERE oid = to_regclass($1)) AS owner_schema_create,
       CASE WHEN $3::text IS NULL OR to_regclass($3) IS NULL THEN NULL ELSE has_table_privilege($3, 'SELECT') END AS lookup_select,
       CASE WHEN $3::text IS NULL OR to_regclass($3) IS NULL THEN NULL ELSE has_table_privilege($3, 'TRIGGER') END AS lookup_trigger
