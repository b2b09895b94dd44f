/**
 * Publications that contain the table, and what the migration does to their subscribers (pure).
 *
 * A publication with publish_via_partition_root off publishes a partitioned table's changes under the names of its
 * partitions. After the swap the table is partitioned, so a pgoutput subscriber of it receives changes for tables it
 * does not have: its apply worker stops on "logical replication target relation ... does not exist" and retries for
 * ever, and its slot keeps WAL on the publisher. Setting the option afterwards does not help: the changes already
 * decoded name the partitions. With the option set in the swap transaction, every change after the swap is published
 * under the original name (docs/behaviours/publish-via-partition-root-at-swap.md).
 *
 * A publication FOR ALL TABLES, or FOR TABLES IN SCHEMA of the table's schema, also publishes what partwise creates
 * (the new table and its partitions, and for ALL TABLES the journal and change log): a subscriber stops at create
 * (docs/behaviours/for-all-tables-publishes-new-tables.md).
 */
import type { Publication, TableInfo } from '../catalog/types.js';
import type { LogicalSlot, SlotView } from '../catalog/logicalSlots.js';
import type { Config } from '../config/config.js';
import type { CheckItem } from '../events.js';
import { ident, qname } from '../db/quote.js';

/** The other partitioned tables a publication publishes, without partwise's own two names for this table. */
export function otherPartitioned(p: Publication, cfg: Config): string[] {
  return p.partitioned
    .filter((t) => !(t.schema === cfg.schema && (t.name === cfg.table || t.name === cfg.newTable)))
    .map((t) => qname(t.schema, t.name));
}

/** The statements the swap adds for --publish-via-root, and their reverse (the rollback's). */
export function viaRootStatements(source: TableInfo, cfg: Config): { forward: string[]; reverse: string[]; notes: string[] } {
  const out = { forward: [] as string[], reverse: [] as string[], notes: [] as string[] };
  if (!cfg.publishViaRoot) return out;
  for (const p of source.publications.filter((x) => !x.viaRoot)) {
    out.forward.push(`ALTER PUBLICATION ${ident(p.name)} SET (publish_via_partition_root = true)`);
    out.reverse.push(`ALTER PUBLICATION ${ident(p.name)} SET (publish_via_partition_root = false)`);
    const others = otherPartitioned(p, cfg);
    out.notes.push(
      `publication ${p.name}: publish_via_partition_root is set to true (--publish-via-root), so its subscribers keep receiving ${cfg.table}'s changes under ${cfg.schema}.${cfg.table}` +
        (others.length ? `; it also changes how ${p.name} publishes ${others.join(', ')}: their changes arrive under those names instead of their partitions'` : ''),
    );
  }
  return out;
}

const item = (id: string, status: CheckItem['status'], title: string, reason: string, todo?: string, details?: string[]): CheckItem => ({
  id, status, title, reason, ...(todo ? { todo } : {}), ...(details && details.length ? { details } : {}),
});

const slotWords = (s: LogicalSlot) => `slot ${s.name}${s.active ? ' (a subscriber is connected)' : ' (inactive: it keeps WAL on this server until it is dropped)'}`;

/**
 * One item per publication that contains the table, and one for logical slots that decode without a publication.
 * A publication fails when the migration would stop its subscribers and nothing in the configuration prevents it.
 */
export function publicationItems(source: TableInfo, cfg: Config, view: SlotView): CheckItem[] {
  const items: CheckItem[] = [];
  const table = `${cfg.schema}.${cfg.table}`;
  const subscribers = view.slots.filter((s) => s.plugin === 'pgoutput');
  const others = view.slots.filter((s) => s.plugin !== 'pgoutput');
  const who = !view.visible
    ? [`partwise cannot see this database's replication slots (${view.why ?? 'no privilege'}), so it must assume subscribers`]
    : subscribers.map(slotWords);
  const subscribed = !view.visible || subscribers.length > 0;
  const partition = `${cfg.schema}.${cfg.partitionName.replace('{key}', '…')}`;
  const breaks =
    `its subscribers have no such table: their apply worker stops on "logical replication target relation "${partition}" does not exist" and retries for ever, ` +
    `and their slot keeps WAL on this server until the disk fills`;

  for (const p of source.publications) {
    const title = `Publication ${p.name}`;
    const id = `publication:${p.name}`;
    const pub = ident(p.name);
    if (p.kind !== 'table') {
      const what = p.kind === 'all' ? 'every table of the database (FOR ALL TABLES)' : `every table of schema ${cfg.schema} (FOR TABLES IN SCHEMA)`;
      const created = `${cfg.newTable} and its partitions${p.kind === 'all' ? ', and partwise\'s journal and change log (schema partwise)' : ''}`;
      const reason = `${p.name} publishes ${what}: from create on it also publishes what partwise creates (${created}); a subscriber that lacks those tables stops on "logical replication target relation ... does not exist" and its slot keeps WAL on this server`;
      const todo = `give the subscribers a publication that lists its tables (CREATE PUBLICATION … FOR TABLE ${table}, …; on each subscriber ALTER SUBSCRIPTION … SET PUBLICATION …), drop ${p.name}, then check again`;
      items.push(subscribed ? item(id, 'fail', title, reason, todo, who) : item(id, 'warn', title, `${reason}. No logical replication slot on this database now`, `if a subscriber comes before the migration ends: ${todo}`));
      continue;
    }
    if (p.viaRoot) {
      items.push(item(id, 'ok', title, `publishes partitioned tables under their own name (publish_via_partition_root = true): after the swap its subscribers receive ${table}'s changes under ${table}`, undefined, who));
      continue;
    }
    const affected = otherPartitioned(p, cfg);
    if (cfg.publishViaRoot) {
      const also = affected.length ? `; this also changes how ${p.name} publishes ${affected.join(', ')}: their changes then arrive under those names instead of their partitions'` : '';
      items.push(item(id, affected.length ? 'warn' : 'ok', title,
        `the swap sets publish_via_partition_root = true on ${p.name} (--publish-via-root), so its subscribers keep receiving ${table}'s changes under ${table}, through the swap and after a rollback${also}`,
        affected.length ? `make sure the subscribers of ${affected.join(', ')} have those tables under those names` : undefined, who));
      continue;
    }
    const reason = `${p.name} has publish_via_partition_root = false: after the swap it publishes each change of ${table} under the name of the partition the row is in (${partition}); ${breaks}. Setting the option after the swap does not recover them: the changes already decoded name the partitions`;
    const todo = `either swap with --publish-via-root (config "publishViaRoot": true): the swap sets publish_via_partition_root = true on ${p.name} in its transaction` +
      (affected.length ? ` (this also changes how it publishes ${affected.join(', ')}: under those names instead of their partitions')` : '') +
      `; or remove the table from the publication (ALTER PUBLICATION ${pub} DROP TABLE ${qname(cfg.schema, cfg.table)}) and from its subscribers (ALTER SUBSCRIPTION … REFRESH PUBLICATION)`;
    items.push(subscribed
      ? item(id, 'fail', title, reason, todo, who)
      : item(id, 'warn', title, `${reason}. No logical replication slot on this database now`, `if a subscriber comes before the swap: ${todo}`));
  }
  if (others.length)
    items.push(item('logical-decoding', 'warn', 'Logical decoding without a publication',
      `${others.map((s) => `${s.name} (${s.plugin ?? 'no plugin'})`).join(', ')} decode every table of this database: from create on their consumers also see partwise's tables, and after the swap ${table}'s changes under its partitions' names`,
      'make sure their consumers expect that, or stop them during the migration', others.map(slotWords)));
  return items;
}
