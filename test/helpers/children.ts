/**
 * Tables whose foreign key into the demo table lacks the key (issue 17): obs_notes (ON DELETE CASCADE) and obs_splits
 * (DEFERRABLE INITIALLY DEFERRED), with rows, and what a test compares of them before and after.
 */
import type pg from 'pg';

export const CHILDREN_SQL = `
CREATE TABLE public.obs_notes (
  note_id bigserial PRIMARY KEY,
  observation_id uuid NOT NULL CONSTRAINT obs_notes_observation_fkey REFERENCES public.petri_observations (observation_id) ON DELETE CASCADE,
  body text
);
CREATE TABLE public.obs_splits (
  split_id bigserial PRIMARY KEY,
  observation_id uuid,
  part int NOT NULL DEFAULT 0,
  CONSTRAINT "obs_splits_Obs;fkey" FOREIGN KEY (observation_id) REFERENCES public.petri_observations (observation_id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX obs_splits_part_idx ON public.obs_splits (part);
INSERT INTO public.obs_notes (observation_id, body)
  SELECT observation_id, 'note ' || seq_no FROM public.petri_observations WHERE program_id IS NOT NULL ORDER BY seq_no LIMIT 2000;
INSERT INTO public.obs_notes (observation_id, body)
  SELECT observation_id, 'second ' || seq_no FROM public.petri_observations WHERE program_id IS NOT NULL ORDER BY seq_no LIMIT 500;
INSERT INTO public.obs_splits (observation_id, part)
  SELECT observation_id, seq_no % 7 FROM public.petri_observations WHERE program_id IS NOT NULL ORDER BY seq_no DESC LIMIT 1500;
INSERT INTO public.obs_splits (observation_id, part) VALUES (NULL, 99);
`;

export const CHILDREN = ['public.obs_notes', 'public.obs_splits'] as const;

/**
 * A child's catalog objects: live columns, constraints, triggers and indexes, each with its definition. The internal
 * triggers of a foreign key are named after their OID: a foreign key that was dropped and added again (swap, then
 * rollback) has the same definition and name, and new OIDs, so the numbers are left out.
 */
export async function childCatalog(client: pg.ClientBase, table: string): Promise<Record<string, string[]>> {
  const q = async (sql: string) => (await client.query(sql, [table])).rows.map((r) => r.x as string);
  return {
    attributes: await q(`SELECT attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull AS x FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`),
    constraints: await q(`SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated || ' ' || confrelid::regclass::text AS x FROM pg_constraint WHERE conrelid = $1::regclass AND conparentid = 0 ORDER BY conname`),
    triggers: (await q(`SELECT tgname || ' ' || pg_get_triggerdef(oid) AS x FROM pg_trigger WHERE tgrelid = $1::regclass ORDER BY tgname`))
      .map((x) => x.replace(/RI_ConstraintTrigger_([a-z])_\d+/g, 'RI_ConstraintTrigger_$1_<oid>')).sort(),
    indexes: await q(`SELECT indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid) || ' ' || indisvalid AS x FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1`),
  };
}

/** Count and checksum of a child's rows, without the key column partwise adds. */
export async function childChecksum(client: pg.ClientBase, table: string, where = 'true'): Promise<{ n: number; sum: string }> {
  const r = await client.query(`SELECT count(*)::int AS n, COALESCE(sum(hashtext((to_jsonb(t) - 'program_id')::text)::numeric), 0)::text AS sum FROM ${table} t WHERE ${where}`);
  return r.rows[0];
}

/** Rows of the child whose program_id is missing or differs from their parent's (behind the original name). */
export async function childMismatches(client: pg.ClientBase, table: string): Promise<number> {
  const r = await client.query(`SELECT count(*)::int AS n FROM ${table} c JOIN public.petri_observations p ON p.observation_id = c.observation_id WHERE c.program_id IS DISTINCT FROM p.program_id`);
  return r.rows[0].n;
}

/** Child rows whose parent is missing (an orphan): none may ever exist. */
export async function orphans(client: pg.ClientBase, table: string): Promise<number> {
  const r = await client.query(`SELECT count(*)::int AS n FROM ${table} c WHERE c.observation_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.petri_observations p WHERE p.observation_id = c.observation_id)`);
  return r.rows[0].n;
}
