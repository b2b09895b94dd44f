-- Which column types hash_record_extended() can hash directly ($1 = type oids): those with a default hash
-- operator class (enums included). Domains resolve to their base type, arrays to their element type. The others
-- (json, geometric types, composites, varchar which borrows text's class) are hashed as text: same session on
-- both sides, so the text form is the same (docs/behaviours/text-form-follows-session-settings.md,
-- docs/behaviours/json-has-no-hash-function.md).
WITH hashops AS (
  SELECT oc.opcintype FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
   WHERE am.amname = 'hash' AND oc.opcdefault
), base AS (
  SELECT t.oid AS type_oid, CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END AS b
    FROM pg_catalog.pg_type t WHERE t.oid = ANY ($1::oid[])
), scalar AS (
  SELECT base.type_oid, CASE WHEN bt.typcategory = 'A' AND bt.typelem <> 0 THEN bt.typelem ELSE bt.oid END AS s
    FROM base JOIN pg_catalog.pg_type bt ON bt.oid = base.b
)
SELECT scalar.type_oid::int8 AS type_oid,
       (st.typtype = 'e' OR (st.typtype = 'b' AND st.oid IN (SELECT opcintype FROM hashops))) AS hashable
  FROM scalar JOIN pg_catalog.pg_type st ON st.oid = scalar.s
