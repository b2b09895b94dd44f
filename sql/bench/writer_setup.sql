-- The benchmark's concurrent writer (pgbench, sql/bench/writer.pgbench): keys it picks at random, fixed before it
-- starts. Kept in schema partwise_bench so that nothing here is mistaken for application tables.
-- Session settings: partwise.bench_ids (how many observation ids to sample).
CREATE SCHEMA partwise_bench;
CREATE TABLE partwise_bench.ids (n int PRIMARY KEY, observation_id uuid NOT NULL);
CREATE TABLE partwise_bench.programs (n int PRIMARY KEY, program_id uuid NOT NULL);
CREATE TEMP TABLE bench_candidates AS
SELECT observation_id FROM public.petri_observations TABLESAMPLE BERNOULLI (50) REPEATABLE (42)
 LIMIT current_setting('partwise.bench_ids')::int;
-- the writer moves rows to other programs; the demo's petri_images references (observation_id, program_id)
-- without ON UPDATE CASCADE, so a referenced row cannot move (the application could not either): leave those out
DO $$
BEGIN
  IF to_regclass('public.petri_images') IS NOT NULL THEN
    DELETE FROM bench_candidates c USING public.petri_images i WHERE i.observation_id = c.observation_id;
  END IF;
END
$$;
INSERT INTO partwise_bench.ids (n, observation_id) SELECT row_number() OVER (), observation_id FROM bench_candidates;
DROP TABLE bench_candidates;
INSERT INTO partwise_bench.programs (n, program_id)
SELECT row_number() OVER (ORDER BY created_at), program_id FROM public.pilot_programs;
ANALYZE partwise_bench.ids, partwise_bench.programs;
