import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box, useInput } from 'ink';
import { Text } from './Text.js';
import { useJournalState } from '../hooks/useJournalState.js';
import { useStepRunner } from '../hooks/useStepRunner.js';
import { useStepSql } from '../hooks/useStepSql.js';
import { useTerminalSize } from '../hooks/useTerminalSize.js';
import { useWatchedProgress } from '../hooks/useWatchedProgress.js';
import { Checklist } from './Checklist.js';
import { ConfirmPrompt, type ConfirmRequest } from './ConfirmPrompt.js';
import { Footer, type KeyHint } from './Footer.js';
import { HelpOverlay } from './HelpOverlay.js';
import { SqlPanel } from './SqlPanel.js';
import { StatusLine } from './StatusLine.js';
import { Create } from './Create.js';
import { Migrate } from './Migrate.js';
import { Monitor } from './Monitor.js';
import { Prerequisites } from './Prerequisites.js';
import { Rollback } from './Rollback.js';
import { Swap } from './Swap.js';
import { TestInsert } from './TestInsert.js';
import { Verify } from './Verify.js';
import type { AppSession } from './session.js';
import type { ActionRequest, ScreenProps } from './screenProps.js';
import { ROLLBACK, STEPS, stepInfo, type StepId } from './steps.js';
import { nextStep, stepState, type StepState } from './stepState.js';
import { useTone } from './Theme.js';

export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;
/** Below this width the checklist is a header line instead of a side column. */
const SIDE_COLUMN_FROM = 120;

const SCREENS: Record<StepId, (p: ScreenProps) => React.ReactElement> = {
  check: Prerequisites, create: Create, verify: Verify, 'test-insert': TestInsert, migrate: Migrate, swap: Swap, monitor: Monitor, rollback: Rollback,
};

const SCREEN_KEYS: Record<StepId, KeyHint[]> = {
  check: [['enter', 'check']],
  create: [['enter', 'create']],
  verify: [['enter', 'structure'], ['d', 'data']],
  'test-insert': [['enter', 'test insert']],
  migrate: [['enter', 'migrate'], ['m', 'mode'], ['p', 'pause'], ['+/-', 'rate'], ['b/B', 'batch']],
  swap: [['enter', 'swap'], ['f', 'finish']],
  monitor: [['+/-', 'interval'], ['r', 'refresh'], ['o', 'sort'], ['c', 'count']],
  rollback: [['enter', 'rollback']],
};

export interface AppProps {
  session: AppSession;
  /** called once, with the exit code, when the user quits (after a running step stopped safely) */
  onExit(code: number): void;
  /** start on this step instead of the journal's next one */
  initialStep?: StepId;
}

/** The checklist app: a view on the engine (through the dispatcher) and the journal. No SQL and no timers here. */
export function App({ session, onExit, initialStep }: AppProps) {
  const color = useTone();
  const { columns, rows } = useTerminalSize();
  const journal = useJournalState(session);
  const runner = useStepRunner(session, () => journal.refresh());
  const [current, setCurrent] = useState<StepId | null>(initialStep ?? null);
  const history = useRef<StepId[]>([]);
  const [overlay, setOverlay] = useState<null | 'help' | 'quit' | 'stopping'>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [showSql, setShowSql] = useState(false);
  const exited = useRef(false);

  const states = useMemo(() => {
    const out: Record<string, StepState> = {};
    for (const s of [...STEPS, ROLLBACK]) out[s.id] = stepState(s, runner.running, runner.runs[s.id], journal);
    return out;
  }, [runner.running, runner.runs, journal]);
  const next = nextStep(states);
  const rollbackAvailable = states.create === 'done' || journal.phase !== null && journal.phase !== 'created';

  // reopening continues where the migration stands: the first step not done, once the journal is read
  useEffect(() => {
    if (current === null && journal.loaded) setCurrent(next ?? 'monitor');
  }, [current, journal.loaded, next]);

  const watched = useWatchedProgress(session, session.readOnly && current === 'migrate');
  const sql = useStepSql(session, current ?? 'check', showSql, journal.phase);

  const exit = useCallback(
    (code: number) => {
      if (exited.current) return;
      exited.current = true;
      onExit(code);
    },
    [onExit],
  );

  const go = useCallback((id: StepId) => {
    setCurrent((cur) => {
      if (cur && cur !== id) history.current.push(cur);
      return id;
    });
    setShowSql(false);
  }, []);

  const request = useCallback(
    (a: ActionRequest) => {
      if (session.readOnly || runner.running) return;
      const step = a.step ?? current ?? 'check';
      const start = () => {
        setConfirm(null);
        runner.start(step, a.command, a.flags ?? {});
      };
      if (a.confirm === 'none') return start();
      setConfirm({ question: a.question, expect: a.confirm === 'y' ? 'y' : { typed: session.engine.cfg.table }, onYes: start });
    },
    [session, runner, current],
  );

  const quit = useCallback(() => {
    if (!runner.running) return exit(0);
    setOverlay('quit');
  }, [runner.running, exit]);

  useInput(
    (input, key) => {
      if (overlay === 'help') {
        if (key.escape || input === 'q' || input === '?') setOverlay(null);
        return;
      }
      if (overlay === 'stopping') return;
      if (overlay === 'quit') {
        if (input === 'y' || input === 'Y') {
          setOverlay('stopping');
          runner.stop();
          void runner.idle().then(() => exit(130));
        } else setOverlay(null);
        return;
      }
      if (input === 'q' || (key.ctrl && input === 'c')) return quit();
      if (input === '?') return setOverlay('help');
      if (input === 's') return setShowSql((v) => !v);
      if (key.escape) {
        if (showSql) return setShowSql(false);
        const back = history.current.pop();
        if (back) setCurrent(back);
        return;
      }
      const byKey = STEPS.find((s) => s.key === input);
      if (byKey) return go(byKey.id);
      if (input === 'R' && rollbackAvailable) return go('rollback');
      if (key.tab) {
        const i = STEPS.findIndex((s) => s.id === current);
        const j = key.shift ? (i <= 0 ? STEPS.length - 1 : i - 1) : (i + 1) % STEPS.length;
        return go(STEPS[j]!.id);
      }
    },
    { isActive: confirm === null },
  );

  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return (
      <Box flexDirection="column">
        <Text color={color('warn')} wrap="wrap">
          The terminal is {columns}x{rows}; partwise needs at least {MIN_COLUMNS}x{MIN_ROWS}. Enlarge the window (it redraws on resize) or press q to quit.
        </Text>
        {runner.running ? <Text>{runner.running} is still running; it continues.</Text> : null}
      </Box>
    );
  }

  const compact = columns < SIDE_COLUMN_FROM;
  // the live region stays shorter than the terminal, so Ink never clears the whole screen
  const height = rows - 1;
  const mainHeight = height - 2 - (compact ? 1 : 0);
  const contentWidth = compact ? columns - 1 : columns - 24;
  const confirmRows = confirm ? 7 : 0;

  const server = (
    <StatusLine
      target={session.server.target} version={session.server.version} embedded={session.server.embedded}
      table={`${session.engine.cfg.schema}.${session.engine.cfg.table}`} health={journal.health} readOnly={session.readOnly}
    />
  );
  if (current === null) {
    return (
      <Box flexDirection="column" height={height}>
        {server}
        <Text>reading the journal…</Text>
      </Box>
    );
  }
  const info = stepInfo(current);
  const Screen = SCREENS[current];
  const screenActive = overlay === null && confirm === null && !showSql;
  const keys: KeyHint[] = [
    ...(session.readOnly ? [] : SCREEN_KEYS[current]),
    ['1-7', 'step'], ['tab', 'next'], ['s', showSql ? 'hide SQL' : 'SQL'], ...(rollbackAvailable ? [['R', 'rollback'] as KeyHint] : []), ['?', 'help'], ['q', 'quit'],
  ];

  return (
    <Box flexDirection="column" height={height}>
      {server}
      {compact ? <Checklist states={states} current={current} next={next} rollbackAvailable={rollbackAvailable} compact /> : null}
      <Box height={mainHeight}>
        {!compact ? <Checklist states={states} current={current} next={next} rollbackAvailable={rollbackAvailable} compact={false} /> : null}
        <Box flexDirection="column" flexGrow={1} paddingLeft={compact ? 0 : 1} height={mainHeight} overflowY="hidden">
          {overlay === 'quit' ? (
            <Box borderStyle="round" borderColor={color('warn')} paddingX={1} flexDirection="column">
              <Text>{runner.running} is running. Stop it safely and quit? The current batch commits and the journal records it; the next start resumes.</Text>
              <Text bold>y: stop and quit · any other key: keep running</Text>
            </Box>
          ) : null}
          {overlay === 'stopping' ? <Text color={color('warn')}>stopping {runner.running ?? ''} at the next safe point, then quitting…</Text> : null}
          {confirm ? <ConfirmPrompt request={confirm} onCancel={() => setConfirm(null)} /> : null}
          {overlay === 'help' ? <HelpOverlay height={mainHeight} /> : null}
          {showSql && overlay !== 'help' ? <SqlPanel sql={sql} height={mainHeight - confirmRows} isActive={overlay === null && confirm === null} /> : null}
          <Box display={overlay === 'help' || showSql ? 'none' : 'flex'} flexDirection="column">
            <Screen
              key={current}
              session={session} info={info} run={runner.runs[current]} state={states[current] ?? 'pending'} journal={journal}
              width={contentWidth} height={mainHeight - confirmRows - (overlay === 'quit' ? 4 : 0)} isActive={screenActive}
              busy={runner.running !== null} request={request} watched={watched}
            />
          </Box>
        </Box>
      </Box>
      <Footer keys={keys} />
    </Box>
  );
}
