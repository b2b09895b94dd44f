-- Template, not run as is: the loader substitutes the key, label, table and order placeholders with
-- identifiers quoted by the tool. Rows in creation order: created_at when the lookup table has one, else the key.
SELECT {{key}}::text AS key, {{label}}::text AS label
FROM {{table}}
ORDER BY {{order}}
