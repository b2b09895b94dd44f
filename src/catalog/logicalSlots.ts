import type pg from 'pg';

export interface LogicalSlot {
  name: string;
  plugin: string | null;
  active: boolean;
}

/**
 * The logical replication slots of this database. Which publication a pgoutput slot's subscriber asks for is not in
 * the catalog (it is an option of each START_REPLICATION), so every pgoutput slot here may subscribe to any
 * publication. `visible` is false when the role may not read pg_replication_slots.
 */
export interface SlotView {
  visible: boolean;
  /** why the slots could not be read */
  why?: string;
  slots: LogicalSlot[];
}

export async function readLogicalSlots(client: pg.ClientBase): Promise<SlotView> {
  try {
    const r = await client.query<LogicalSlot>(
      `SELECT slot_name::text AS name, plugin::text AS plugin, active FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database() ORDER BY 1`,
    );
    return { visible: true, slots: r.rows };
  } catch (e) {
    if ((e as { code?: string }).code !== '42501') throw e;
    return { visible: false, why: (e as Error).message, slots: [] };
  }
}
