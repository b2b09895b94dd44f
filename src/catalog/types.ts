/** A typed, read-only picture of the source table and its surroundings, taken in one catalog read. */

export interface Column {
  name: string;
  attnum: number;
  type: string;
  typeOid: number;
  typeKind: string;
  typeCategory: string;
  notNull: boolean;
  defaultExpr: string | null;
  /** '' | 'a' (ALWAYS) | 'd' (BY DEFAULT) */
  identity: string;
  /** '' | 's' (STORED) */
  generated: string;
  generationExpr: string | null;
  collation: string | null;
  statTarget: number | null;
  comment: string | null;
  identitySequence: string | null;
}

export interface Constraint {
  name: string;
  /** p primary key, u unique, c check, x exclusion, f foreign key, n not-null (PG17+ does not list these here) */
  type: string;
  def: string;
  validated: boolean;
  deferrable: boolean;
  deferred: boolean;
  inherited: boolean;
  noInherit: boolean;
  columns: string[];
  refSchema: string | null;
  refTable: string | null;
  indexName: string | null;
}

export interface ForeignKeyIn {
  name: string;
  fromSchema: string;
  fromTable: string;
  def: string;
  columns: string[];
  refColumns: string[];
  /** confupdtype / confdeltype: a no action, r restrict, c cascade, n set null, d set default */
  onUpdate: string;
  onDelete: string;
  /** confmatchtype: s simple, f full */
  matchType: string;
  deferrable: boolean;
  deferred: boolean;
  validated: boolean;
  /** the referencing table: its relkind, whether it is a partition or in an inheritance tree, its owner, its columns */
  fromRelkind: string;
  fromIsPartition: boolean;
  fromInherits: boolean;
  fromOwner: string;
  /** the role partwise runs as may act as the referencing table's owner (ALTER TABLE, triggers) */
  fromOwnerMember: boolean;
  fromAllColumns: string[];
}

export interface Index {
  name: string;
  isUnique: boolean;
  isPrimary: boolean;
  backsConstraint: boolean;
  isPartial: boolean;
  hasExpressions: boolean;
  isValid: boolean;
  def: string;
  methodAndColumns: string;
  prefixOk: boolean;
  keyColumns: string[];
  attachedChildren: number;
  /** exactly `btree (columns)`: plain columns, default operator classes, collations and order, no INCLUDE, no predicate */
  plainBtree: boolean;
}

export interface Trigger {
  name: string;
  def: string;
  enabled: string;
  before: boolean;
  forEachRow: boolean;
  onInsert: boolean;
  onUpdate: boolean;
  onDelete: boolean;
  onTruncate: boolean;
  functionSchema: string;
  functionName: string;
  functionSource: string;
  inherited: boolean;
}

export interface Rule {
  name: string;
  def: string;
}

export interface Policy {
  name: string;
  /** r select, a insert, w update, d delete, * all */
  cmd: string;
  permissive: boolean;
  roles: string[];
  usingExpr: string | null;
  checkExpr: string | null;
}

export interface Grant {
  grantee: string;
  privilege: string;
  grantable: boolean;
  columnName: string | null;
}

export interface Dependent {
  kind: 'view' | 'materialized view' | 'function';
  schema: string;
  name: string;
  def: string;
  /** views and materialized views: reloptions (e.g. security_invoker=true), null for none */
  options?: string[] | null;
  owner?: string | null;
  comment?: string | null;
  /** materialized views: their indexes' definitions */
  indexDefs?: string[] | null;
  /** materialized views: JSON array of Grant, rebuilt after DROP + CREATE */
  grants?: string | null;
}

export interface Publication {
  name: string;
  viaRoot: boolean;
  /** how the table is in it: listed on its own, FOR ALL TABLES, or through its schema (FOR TABLES IN SCHEMA) */
  kind: 'table' | 'all' | 'schema';
  /** the other partitioned tables it publishes: publish_via_partition_root changes how they are published too */
  partitioned: Array<{ schema: string; name: string }>;
}

export interface OwnedSequence {
  columnName: string;
  schema: string;
  name: string;
  owner: string;
  /** privileges on the sequence, the owner's own left out */
  grants: Grant[];
  kind: 'identity' | 'owned';
}

export interface Partition {
  oid: number;
  schema: string;
  name: string;
  bound: string;
  isDefault: boolean;
  relkind: string;
  owner: string;
  rls: boolean;
  rlsForced: boolean;
  reltuples: number;
  tableBytes: number;
  indexBytes: number;
  totalBytes: number;
}

/** Everything partwise knows about one table. */
export interface TableInfo {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  isPartition: boolean;
  rls: boolean;
  rlsForced: boolean;
  replicaIdentity: string;
  replicaIdentityIndex: string | null;
  owner: string;
  comment: string | null;
  reltuples: number;
  totalBytes: number;
  tableBytes: number;
  partitionKey: string | null;
  columns: Column[];
  constraints: Constraint[];
  foreignKeysIn: ForeignKeyIn[];
  indexes: Index[];
  triggers: Trigger[];
  rules: Rule[];
  policies: Policy[];
  grants: Grant[];
  dependents: Dependent[];
  publications: Publication[];
  sequences: OwnedSequence[];
  /** tables that INHERIT from this one (partitions excluded) */
  inheritanceChildren: InheritanceChild[];
}

export interface InheritanceChild {
  schema: string;
  name: string;
  reltuples: number;
}

export interface PartitionedTableInfo extends TableInfo {
  partitions: Array<Partition & { grants: Grant[]; policies: Policy[]; indexes: Index[] }>;
}

export interface LookupRow {
  key: string;
  label: string | null;
}

export interface Blocker {
  pid: number;
  userName: string | null;
  applicationName: string | null;
  state: string | null;
  xactSeconds: number | null;
  query: string | null;
  modes: string | null;
}

export interface ServerInfo {
  versionNum: number;
  version: string;
  role: string;
  database: string;
  superuser: boolean;
  bypassrls: boolean;
  canCreateSchema: boolean;
  statementTimeout: string;
  lockTimeout: string;
  /** deadlock_timeout in ms: the switch bounds its lock waits below it (src/steps/switchTables.ts) */
  deadlockTimeoutMs: number;
  maxLocksPerTransaction: number;
  walLevel: string;
  maxWalSizeBytes: number;
  checkpointCompletionTarget: number;
  roleTimeouts: Array<{ role: string; settings: string[] }>;
  replicationSlots: Array<{ slot: string; active: boolean; retained_bytes: number }>;
}

export interface Privileges {
  sourceSelect: boolean | null;
  sourceTrigger: boolean | null;
  sourceOwnerMember: boolean | null;
  schemaCreate: boolean | null;
  /** whether the source's owner has CREATE on the schema (ALTER ... OWNER TO needs it unless superuser) */
  ownerSchemaCreate: boolean | null;
  lookupSelect: boolean | null;
  lookupTrigger: boolean | null;
}

export interface Snapshot {
  takenAt: string;
  server: ServerInfo;
  privileges: Privileges;
  schemaExists: boolean;
  source: TableInfo | null;
  lookup: TableInfo | null;
  lookupRows: LookupRow[];
  /** the partitioned copy, if an earlier run created it */
  target: PartitionedTableInfo | null;
  /** the renamed original, if a swap happened */
  old: TableInfo | null;
  /** roles that default privileges would grant a new table to */
  defaultAclGrantees: string[];
  /** sessions holding locks on the source */
  sessionsOnSource: Blocker[];
  /** partwise's auto-partition trigger on the lookup table, if installed */
  journalExists: boolean;
  /** the children of foreign keys into the source that lack the key, as far as partwise carries them (src/plan/carryChildren.ts) */
  children: import('../plan/carryChildren.js').ChildFacts[];
}
