-- partwise demo data. Sizes come from session settings (set by seedDemo):
--   partwise.demo_rows      observations to generate
--   partwise.demo_programs  pilot programs
-- The shape is what makes partitioning interesting: one program holds ~40% of
-- the rows (more when there are fewer than 4 programs), the rest taper off, and ~0.1% (at least 3) of the rows point at
-- programs missing from pilot_programs. Set-based only, so 1M rows stay fast.

INSERT INTO public.pilot_programs (name, status, created_at)
SELECT CASE WHEN i <= cardinality(names) THEN names[i]
            ELSE names[1 + (i - 1) % cardinality(names)] || ' #' || i END,
       (ARRAY['active', 'active', 'paused', 'completed'])[1 + i % 4],
       -- Staggered, so "creation order" is well defined.
       timestamptz '2023-01-09 09:00:00+00' + (i - 1) * interval '11 days 3 hours'
  FROM generate_series(1, current_setting('partwise.demo_programs')::int) AS i,
       (SELECT ARRAY[
          'Northfield Wheat Rust Study',
          -- A name that breaks naively string-built SQL.
          'O''Brien; trial "B"',
          'Coastal Mycology Baseline',
          'Greenhouse 4 Spore Survey',
          'Riverside Barley Pilot',
          'Aspergillus Containment Trial',
          'Urban Soil Fungi Census',
          'Cold Chain Mold Audit',
          'Vineyard Botrytis Watch',
          'Hospital Air Sampling',
          'Seed Bank Viability Check',
          'Student Lab Cohort 2024'
        ] AS names) AS n;

WITH k AS (
  SELECT n, p, orphans, n - orphans AS t,
         -- 40%, but always well ahead of the second largest.
         round((n - orphans) * greatest(0.4, least(1.0, 1.6 / p)))::int AS big,
         (SELECT sum(1.0 / sqrt(j)) FROM generate_series(1, p - 1) AS j) AS w
    FROM (SELECT current_setting('partwise.demo_rows')::int AS n,
                 current_setting('partwise.demo_programs')::int AS p,
                 greatest(3, round(current_setting('partwise.demo_rows')::int * 0.001))::int AS orphans) AS s
),
-- Rows per program: the oldest program takes the big share, the others split
-- the rest in proportion 1, 1/sqrt(2), 1/sqrt(3), ... (the last one also
-- takes the rounding leftovers).
counts AS (
  SELECT i, CASE WHEN i = 1 THEN big ELSE floor((t - big) / sqrt(i - 1) / w)::int END AS cnt
    FROM k, generate_series(1, k.p) AS i
),
-- First row number of each program, for width_bucket().
bounds AS (
  SELECT array_agg(start ORDER BY i) AS starts
    FROM (SELECT i, 1 + coalesce(sum(cnt) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS start
            FROM counts) AS c
),
progs AS (
  SELECT array_agg(program_id ORDER BY created_at) AS ids FROM public.pilot_programs
)
INSERT INTO public.petri_observations
  (program_id, phase, tags, metadata, growth_index, "daysInThisProgramPhase", petri_code, observed_at, updated_at)
SELECT CASE WHEN x.r <= k.orphans
            -- Two programs that were deleted from pilot_programs long ago.
            THEN md5('partwise-demo-orphan-' || (1 + x.r % 2))::uuid
            ELSE progs.ids[width_bucket(x.r - k.orphans, bounds.starts)] END,
       (CASE g % 4 WHEN 0 THEN 'germination' WHEN 1 THEN 'growth'
                   WHEN 2 THEN 'sporulation' ELSE 'decline' END)::public.observation_phase,
       ARRAY['batch-' || (g % 20), CASE WHEN g % 7 = 0 THEN 'contaminated' ELSE 'clean' END],
       jsonb_build_object('temp_c', 18 + (g % 90) / 10.0, 'humidity_pct', 40 + g % 50, 'operator', 'op-' || (g % 37)),
       ((g * 7919) % 100000) / 1000.0,
       (g % 45)::int,
       'PD-' || lpad((g % 50000)::text, 5, '0'),
       x.at,
       CASE WHEN g % 3 = 0 THEN x.at + interval '90 minutes' END
  FROM k, bounds, progs,
       generate_series(1::bigint, k.n) AS g,
       -- g -> r is a permutation of 1..n (2654435761 is prime), so programs
       -- interleave over time while the per-program counts stay exact.
       LATERAL (SELECT 1 + ((g - 1) * 2654435761) % k.n AS r,
                       now() - (k.n - g) * (interval '365 days' / k.n) AS at) AS x;

INSERT INTO public.petri_images (observation_id, program_id, url)
SELECT observation_id, program_id, 'https://storage.example.com/petri/' || petri_code || '/' || seq_no || '.jpg'
  FROM public.petri_observations
 WHERE seq_no % 50 = 0;

ANALYZE public.pilot_programs, public.petri_observations, public.petri_images;
