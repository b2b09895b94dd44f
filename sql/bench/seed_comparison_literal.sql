-- The seed's comparison query with the program's id written as a literal instead of looked up by name: the planner
-- then prunes to one partition while planning (docs/behaviours/subquery-key-prunes-at-execution.md) and plans for
-- that partition alone, where the looked-up form is planned for every partition at once and pruned only at execution.
-- Template: {{table}} (quoted, schema-qualified), {{program_id}} (a quoted literal).
SELECT count(*), avg(growth_index)
  FROM {{table}}
 WHERE program_id = {{program_id}}
   AND observed_at > now() - interval '30 days'
