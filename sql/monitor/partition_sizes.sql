-- Every leaf partition of the partitioned table, with bound, estimates, sizes, activity and its lookup label: ONE
-- query whatever the number of partitions (the monitor refreshes with it every few seconds).
-- $1 = the source table, $2 = the new table (both schema-qualified, quoted). The partitioned one of the two is
-- measured: the new table before the swap, the source after it.
-- Template: {{lookup}} (quoted lookup table), {{lookup_key}} / {{lookup_label}} (column names as literals) are
-- substituted by the loader. The lookup row is read through to_jsonb so that a missing label column gives NULL.
-- Facts 20, 21: sizes from pg_partition_tree + pg_relation_size of each heap, TOAST table and index (never count(*) FROM ONLY parent, always 0); partitions
-- and bounds from the catalog, never from names; reltuples = -1 means never analyzed.
WITH parent AS (
  SELECT c.oid
    FROM pg_class c
   WHERE c.oid IN (to_regclass($1), to_regclass($2)) AND c.relkind = 'p'
   -- both partitioned would mean a half-done swap: prefer the one applications use
   ORDER BY c.oid = to_regclass($1) DESC
   LIMIT 1
),
-- the key's type decides how the server prints a bound value: int4 and numeric bare unless negative, every other
-- type quoted (the same rule as expectedListBound() in src/plan/listBound.ts)
bare_keys AS (
  SELECT COALESCE(bool_and(a.atttypid IN ('int4'::regtype, 'numeric'::regtype)), false) AS bare
    FROM parent
    JOIN pg_partitioned_table pt ON pt.partrelid = parent.oid
    JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
),
lookup AS (
  SELECT DISTINCT ON (bound) bound, key, label
    FROM (SELECT 'FOR VALUES IN (' ||
                 CASE WHEN bare_keys.bare AND j.key ~ '^[0-9]+(\.[0-9]+)?$' THEN j.key
                      ELSE '''' || replace(j.key, '''', '''''') || '''' END || ')' AS bound,
                 j.key, j.label
            FROM (SELECT to_jsonb(l) ->> {{lookup_key}} AS key, to_jsonb(l) ->> {{lookup_label}} AS label
                    FROM {{lookup}} l) j, bare_keys
           WHERE j.key IS NOT NULL) b
   ORDER BY bound, key
),
leaf AS (
  SELECT t.relid, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM parent p
   CROSS JOIN LATERAL pg_partition_tree(p.oid) t
    JOIN pg_class c ON c.oid = t.relid
   WHERE t.isleaf AND t.relid <> p.oid
)
SELECT pn.nspname || '.' || pc.relname AS parent_name,
       c.oid::int8 AS oid,
       n.nspname AS schema,
       c.relname AS name,
       leaf.bound,
       leaf.bound = 'DEFAULT' AS is_default,
       lookup.key AS key_value,
       lookup.label,
       -- the rows now, estimated as the planner does (docs/behaviours/reltuples-is-as-of-the-last-analyze.md):
       -- reltuples is the count at the last ANALYZE or VACUUM, stale while a copy fills the partition, so its rows per
       -- page are scaled to the pages the heap has now; no pages is no rows; NULL when there is no density to scale
       -- (never analyzed, or analyzed while empty and filled since)
       CASE WHEN sz.heap_pages = 0 THEN 0::float8
            WHEN c.reltuples < 0 OR c.relpages = 0 THEN NULL
            ELSE round(c.reltuples / c.relpages * sz.heap_pages)::float8 END AS estimated_rows,
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END AS analyzed_rows,
       sz.table_bytes,
       ix.index_bytes,
       -- = pg_total_relation_size, without measuring every file twice
       sz.table_bytes + ix.index_bytes AS total_bytes,
       -- the functions behind pg_stat_user_tables, called for these relations only (the view computes every table)
       pg_stat_get_last_analyze_time(c.oid) AS last_analyze,
       pg_stat_get_last_autoanalyze_time(c.oid) AS last_autoanalyze,
       pg_stat_get_numscans(c.oid)::int8 AS seq_scan,
       ix.idx_scan,
       -- only for the default partition: one cheap probe of its first row (facts 15: rows there mean a missing partition)
       CASE WHEN leaf.bound = 'DEFAULT' THEN
         (xpath('/row/x/text()', query_to_xml(format('SELECT EXISTS (SELECT 1 FROM %s) AS x', c.oid::regclass), false, true, '')))[1]::text::boolean
       END AS has_rows
  FROM leaf
  JOIN pg_class c ON c.oid = leaf.relid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN parent ON true
  JOIN pg_class pc ON pc.oid = parent.oid
  JOIN pg_namespace pn ON pn.oid = pc.relnamespace
  -- the heap's and its TOAST table's main forks: what pg_table_size adds up less the free space and visibility maps
  -- and the TOAST index (a fraction of a percent), at a third of its cost (it opens every fork of both relations)
  CROSS JOIN LATERAL (SELECT heap_bytes + toast_bytes AS table_bytes, heap_bytes / current_setting('block_size')::int8 AS heap_pages
                        FROM (SELECT pg_relation_size(c.oid)::int8 AS heap_bytes,
                                     COALESCE(pg_relation_size(NULLIF(c.reltoastrelid, 0)), 0)::int8 AS toast_bytes) f) sz
  -- one pass over the leaf's indexes for their sizes and scans: the main fork of each (what pg_indexes_size adds up,
  -- less the free space map btree keeps after a vacuum), cheaper than pg_indexes_size, which reopens the table
  -- and each index for every fork (at 1000 partitions the size calls are most of this query's time)
  CROSS JOIN LATERAL (SELECT COALESCE(sum(pg_relation_size(i.indexrelid)), 0)::int8 AS index_bytes,
                             sum(pg_stat_get_numscans(i.indexrelid))::int8 AS idx_scan
                        FROM pg_index i WHERE i.indrelid = c.oid) ix
  LEFT JOIN lookup ON lookup.bound = leaf.bound
 ORDER BY total_bytes DESC, c.relname
