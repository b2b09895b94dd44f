/**
 * Every step partwise knows, in one list. The CLI's commands and help, the app's checklist, keys, help overlay,
 * confirmations and SQL panes are derived from it. Adding a step: one module in src/registry/steps/ plus its screen.
 */
import type { StepDefinition } from './types.js';
import { archive } from './steps/archive.js';
import { check } from './steps/check.js';
import { create } from './steps/create.js';
import { finish } from './steps/finish.js';
import { maintain } from './steps/maintain.js';
import { migrate } from './steps/migrate.js';
import { monitor } from './steps/monitor.js';
import { pause, resume } from './steps/pauseResume.js';
import { plan } from './steps/plan.js';
import { restore } from './steps/restore.js';
import { rollback } from './steps/rollback.js';
import { status } from './steps/status.js';
import { swap } from './steps/swap.js';
import { testInsert } from './steps/testInsert.js';
import { verify } from './steps/verify.js';

// each step's options type is its own; the list holds them side by side
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep = StepDefinition<any>;

/** In the order of partwise --help. */
export const STEP_LIST: readonly AnyStep[] = [check, plan, create, verify, status, testInsert, migrate, pause, resume, swap, rollback, finish, maintain, monitor, archive, restore];

/** The checklist's seven steps, in order; Rollback (R) is reachable from every step after Create. */
export const CHECKLIST: readonly AnyStep[] = [check, create, verify, testInsert, migrate, swap, monitor];
export const ROLLBACK_STEP: AnyStep = rollback;

export type ChecklistId = 'check' | 'create' | 'verify' | 'test-insert' | 'migrate' | 'swap' | 'monitor' | 'rollback';

export function stepByCommand(command: string): AnyStep | undefined {
  return STEP_LIST.find((s) => s.command === command);
}

export function stepById(id: string): AnyStep {
  const s = STEP_LIST.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}

/** The checklist step a key jumps to ('1'-'7', 'R'). */
export function stepByKey(key: string): AnyStep | undefined {
  return [...CHECKLIST, ROLLBACK_STEP].find((s) => s.key === key);
}

/**
 * A command to run next (`verify --data`) as the app says it: the step's key and title, and for a flag the key that
 * does it on that screen (`3 Verify, then d: compare the data …`). The CLI says the command itself.
 */
export function nextInApp(command: string): string {
  const [word, ...flags] = command.split(/\s+/);
  const step = stepByCommand(word ?? '');
  if (!step) return command;
  const place = step.key ? `${step.key} ${step.title}` : step.title;
  const binding = flags.map((f) => step.keys?.find((k) => k.action === f.replace(/^--/, ''))).find((k) => k !== undefined);
  return binding ? `${place}, then ${binding.keys[0]}: ${binding.help}` : place;
}
