-- The first user's comparison query (issue 5, item 5): count and average growth of one program over the last 30
-- days, the program looked up by name, as the seed wrote it (pruning happens at execution:
-- docs/behaviours/subquery-key-prunes-at-execution.md). Template: {{table}} (quoted, schema-qualified), {{program}}
-- (a quoted literal).
SELECT count(*), avg(growth_index)
  FROM {{table}}
 WHERE program_id = (SELECT program_id FROM public.pilot_programs WHERE name = {{program}} LIMIT 1)
   AND observed_at > now() - interval '30 days'
