import type React from 'react';
import type { ChecklistId } from '../registry/index.js';
import { Create } from './Create.js';
import { Migrate } from './Migrate.js';
import { Monitor } from './Monitor.js';
import { Prerequisites } from './Prerequisites.js';
import { Rollback } from './Rollback.js';
import { Swap } from './Swap.js';
import { TestInsert } from './TestInsert.js';
import { Verify } from './Verify.js';
import type { ScreenProps } from './screenProps.js';

/** Each checklist step's screen, by its registry id. */
export const SCREENS: Record<ChecklistId, (p: ScreenProps) => React.ReactElement> = {
  check: Prerequisites, create: Create, verify: Verify, 'test-insert': TestInsert, migrate: Migrate, swap: Swap, monitor: Monitor, rollback: Rollback,
};
