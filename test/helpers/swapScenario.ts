/**
 * The swap tests' scenario: the demo (seedDemo) plus one of every dependent object kind the swap must carry over,
 * created, migrated (with change capture) and verified, ready to swap.
 */
import pg from 'pg';
import { seedDemo } from '../../src/demo/seedDemo.js';
import { runCreate } from '../../src/steps/create.js';
import { runMigrate } from '../../src/steps/migrate.js';
import { takeSnapshot } from '../../src/catalog/snapshot.js';
import { ident, qname } from '../../src/db/quote.js';
import { captureInstallStatements } from '../../src/move/capture.js';
import { copiedColumns } from '../../src/move/captureNames.js';
import { runVerifyData } from '../../src/steps/verifyData.js';
import type { StepContext } from '../../src/steps/context.js';
import { withClient } from './db.js';

/**
 * Every object kind docs/behaviours/rename-leaves-oid-bindings-behind.md lists, on the demo table. Handles both demo
 * FK shapes (single or composite).
 */
export const EXTRA_OBJECTS = `
-- the foreign key into the table must contain the partition key (docs/behaviours/foreign-key-into-partitioned-table.md): make it composite
ALTER TABLE public.petri_images ADD COLUMN IF NOT EXISTS program_id uuid;
UPDATE public.petri_images i SET program_id = o.program_id FROM public.petri_observations o WHERE o.observation_id = i.observation_id AND i.program_id IS NULL;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = 'public.petri_images'::regclass AND contype = 'f' LOOP
    EXECUTE format('ALTER TABLE public.petri_images DROP CONSTRAINT %I', r.conname);
  END LOOP;
END $$;
DO $$
BEGIN
  -- the demo may already have it (the lead's composite demo FK): compare columns, not names
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'public.petri_observations'::regclass AND contype IN ('p', 'u')
                   AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'public.petri_observations'::regclass AND attname = 'observation_id'),
                                      (SELECT attnum FROM pg_attribute WHERE attrelid = 'public.petri_observations'::regclass AND attname = 'program_id')]::int2[]) THEN
    ALTER TABLE public.petri_observations ADD CONSTRAINT petri_observations_observation_program_key UNIQUE (observation_id, program_id);
  END IF;
END $$;
ALTER TABLE public.petri_images ADD CONSTRAINT "petri_images_obs;fkey" FOREIGN KEY (observation_id, program_id)
  REFERENCES public.petri_observations (observation_id, program_id) ON DELETE CASCADE;

-- a foreign key out of the table
CREATE TABLE public.labs (lab_id int PRIMARY KEY, name text);
INSERT INTO public.labs VALUES (1, 'north'), (2, 'south');
ALTER TABLE public.petri_observations ADD COLUMN lab_id int CONSTRAINT petri_observations_lab_fkey REFERENCES public.labs (lab_id);
UPDATE public.petri_observations SET lab_id = 1 + (seq_no % 2)::int;

-- views (one with security_invoker, which CREATE OR REPLACE VIEW would reset), a materialized view, a BEGIN ATOMIC function
CREATE VIEW public.obs_secure WITH (security_invoker = true) AS SELECT observation_id, program_id FROM public.petri_observations;
GRANT SELECT ON public.obs_secure TO anon;
CREATE MATERIALIZED VIEW public.program_counts AS SELECT program_id, count(*) AS n FROM public.petri_observations GROUP BY program_id;
CREATE UNIQUE INDEX program_counts_program_idx ON public.program_counts (program_id);
GRANT SELECT ON public.program_counts TO authenticated;
COMMENT ON MATERIALIZED VIEW public.program_counts IS 'observations per program';
CREATE FUNCTION public.count_program(p uuid) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*) FROM public.petri_observations WHERE program_id = p;
END;

-- business triggers: a BEFORE UPDATE stamp and an AFTER INSERT audit log; one disabled trigger
CREATE TABLE public.obs_audit (id bigserial PRIMARY KEY, observation_id uuid, op text);
CREATE FUNCTION public.stamp_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE FUNCTION public.audit_obs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.obs_audit (observation_id, op) VALUES (NEW.observation_id, TG_OP); RETURN NULL; END $$;
CREATE TRIGGER petri_observations_stamp BEFORE UPDATE ON public.petri_observations FOR EACH ROW EXECUTE FUNCTION public.stamp_updated_at();
CREATE TRIGGER "petri_observations_Audit" AFTER INSERT ON public.petri_observations FOR EACH ROW EXECUTE FUNCTION public.audit_obs();
CREATE TRIGGER petri_observations_dormant AFTER DELETE ON public.petri_observations FOR EACH ROW EXECUTE FUNCTION public.audit_obs();
ALTER TABLE public.petri_observations DISABLE TRIGGER petri_observations_dormant;

-- a rule, a statistics target, replica identity
CREATE RULE petri_observations_protect AS ON DELETE TO public.petri_observations
  WHERE OLD.petri_code = 'PROTECTED' DO INSTEAD NOTHING;
ALTER TABLE public.petri_observations ALTER COLUMN petri_code SET STATISTICS 500;
ALTER TABLE public.petri_observations REPLICA IDENTITY FULL;
`;

export async function seedScenario(config: pg.ClientConfig, rows = 5000, programs = 4): Promise<void> {
  await withClient(config, async (c) => {
    await seedDemo(c, { rows, programs });
    await c.query(EXTRA_OBJECTS);
  });
}

/**
 * create, then fill: `migrate` runs partwise migrate --mode all; `direct` installs forward capture and copies with one
 * INSERT ... SELECT of explicit columns (the structure tests need no batching), then verify --data. Each must succeed.
 */
export async function createMigrateVerify(ctx: StepContext, fill: 'migrate' | 'direct' = 'direct'): Promise<void> {
  const created = await runCreate(ctx);
  if (created.exitCode !== 0) throw new Error(`create failed: ${created.summary}`);
  if (fill === 'migrate') {
    const migrated = await runMigrate(ctx, { mode: 'all' });
    if (migrated.exitCode !== 0) throw new Error(`migrate failed: ${migrated.summary}`);
  } else {
    const snap = await takeSnapshot(ctx.client, ctx.cfg);
    const cols = copiedColumns(snap, 'forward').map((c) => ident(c.name)).join(', ');
    await ctx.client.query('BEGIN');
    for (const s of captureInstallStatements(snap, ctx.cfg, 'forward')) await ctx.client.query(s);
    await ctx.client.query(
      `INSERT INTO ${qname(ctx.cfg.schema, ctx.cfg.newTable)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${qname(ctx.cfg.schema, ctx.cfg.table)} WHERE program_id IS NOT NULL`);
    await ctx.client.query('COMMIT');
  }
  const verified = await runVerifyData(ctx);
  if (verified.exitCode !== 0) throw new Error(`verify --data failed: ${verified.summary}`);
}

/** Count and order-independent checksum of a table's rows (every column, as text). */
export async function tableChecksum(client: pg.ClientBase, qualified: string): Promise<{ n: number; sum: string }> {
  const r = await client.query(`SELECT count(*)::int AS n, COALESCE(sum(hashtext(to_jsonb(t)::text)::numeric), 0)::text AS sum FROM ${qualified} t`);
  return r.rows[0];
}
