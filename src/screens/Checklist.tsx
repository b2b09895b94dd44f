import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { CHECKLIST, ROLLBACK_STEP, type AnyStep, type ChecklistId } from '../registry/index.js';
import type { MigrationState, StateStepId, StepState } from '../state/migrationState.js';
import { STATE_SIGN, STATE_TONE } from './stateSigns.js';
import { selectedMark, useTone } from './Theme.js';

export interface ChecklistProps {
  migration: MigrationState;
  current: ChecklistId;
  rollbackAvailable: boolean;
  /** a one-line header (narrow terminals) instead of a side column */
  compact: boolean;
  /** the header's width (compact) */
  width: number;
}

interface HeaderItem {
  id: string;
  text: string;
  current: boolean;
  state: StepState;
}

/**
 * The header line's items, in the longest form that fits `width`: every step named (the titles, else the short
 * forms), the current one marked (›) and the next one named; only a terminal too narrow even for that loses words.
 */
export function headerItems(migration: MigrationState, current: ChecklistId, rollbackAvailable: boolean, next: AnyStep | undefined, width: number) {
  const steps = [...CHECKLIST, ...(rollbackAvailable ? [ROLLBACK_STEP] : [])];
  const build = (name: (s: AnyStep) => string, nextWords: (s: AnyStep) => string) => {
    const items: HeaderItem[] = steps.map((s) => {
      const st = stateOf(migration, s);
      return { id: s.id, current: s.id === current, state: st, text: `${selectedMark(s.id === current).trim()}${s.key}${STATE_SIGN[st]}${name(s)}` };
    });
    const nextText = next ? nextWords(next) : '';
    const length = items.reduce((n, it) => n + [...it.text].length + 1, 0) + (nextText ? [...nextText].length : 0);
    return { steps: items, next: nextText, length };
  };
  const forms = [
    build((s) => s.title, (s) => `next: ${s.key}`),
    build((s) => s.short ?? s.title, (s) => `next: ${s.key}`),
    build((s) => s.short ?? s.title, (s) => `→${s.key}`),
    build((s) => (s.id === 'rollback' ? '' : (s.short ?? s.title)), (s) => `→${s.key}`),
  ];
  return forms.find((f) => f.length <= width) ?? forms[forms.length - 1]!;
}

const stateOf = (m: MigrationState, s: AnyStep) => m.steps[(s.stateOf ?? s.id) as StateStepId].state;

/** The seven steps with their state in the migration, the current one marked and the next one named. */
export function Checklist({ migration, current, rollbackAvailable, compact, width }: ChecklistProps) {
  const color = useTone();
  const next = migration.next ? CHECKLIST.find((s) => s.id === migration.next!.step) : undefined;
  if (compact) {
    const items = headerItems(migration, current, rollbackAvailable, next, width);
    return (
      <Box>
        <Text wrap="truncate">
          {items.steps.map((it, i) => (
            <Text key={it.id}>
              {i ? ' ' : ''}
              <Text inverse={it.current} color={color(STATE_TONE[it.state])}>{it.text}</Text>
            </Text>
          ))}
          {items.next ? <Text color={color('dim')}> {items.next}</Text> : null}
        </Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={22} flexShrink={0} borderStyle="single" borderRight borderLeft={false} borderTop={false} borderBottom={false} paddingRight={1}>
      <Text bold>Checklist</Text>
      {CHECKLIST.map((s) => {
        const st = stateOf(migration, s);
        return (
          <Text key={s.id} wrap="truncate" inverse={s.id === current} color={color(STATE_TONE[st])}>
            {`${selectedMark(s.id === current)}${s.key} ${STATE_SIGN[st]} ${s.title}`}
            {s.id === next?.id ? ' ←' : ''}
          </Text>
        );
      })}
      <Text> </Text>
      {rollbackAvailable ? (
        <Text wrap="truncate" inverse={current === 'rollback'} color={color(STATE_TONE[stateOf(migration, ROLLBACK_STEP)])}>
          {`${selectedMark(current === 'rollback')}R ${STATE_SIGN[stateOf(migration, ROLLBACK_STEP)]} ${ROLLBACK_STEP.title}`}
        </Text>
      ) : null}
      <Text color={color('dim')} wrap="truncate">{next ? `next: ${next.title}` : migration.next ? `next: ${migration.next.command}` : 'all done'}</Text>
      <Text color={color('dim')} wrap="truncate">✔ done  ✘ failed</Text>
      <Text color={color('dim')} wrap="truncate">! interrupted</Text>
      <Text color={color('dim')} wrap="truncate">~ stale  - skipped</Text>
    </Box>
  );
}
