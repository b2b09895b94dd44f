import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box, useInput } from 'ink';
import { Text } from './Text.js';
import { useMigrationFacts } from '../hooks/useMigrationState.js';
import { useStepRunner } from '../hooks/useStepRunner.js';
import { useStepSql } from '../hooks/useStepSql.js';
import { useTerminalSize } from '../hooks/useTerminalSize.js';
import { useCopyProgress } from '../hooks/useCopyProgress.js';
import { optionsOf } from '../registry/dispatch.js';
import { CHECKLIST, ROLLBACK_STEP, stepByCommand, stepByKey, stepById, type ChecklistId } from '../registry/index.js';
import { migrationState, type MigrationState, type StateStepId } from '../state/migrationState.js';
import { Checklist } from './Checklist.js';
import { ConfirmPrompt, type ConfirmRequest } from './ConfirmPrompt.js';
import { Footer, type KeyHint } from './Footer.js';
import { HelpOverlay, keysText } from './HelpOverlay.js';
import { SqlPanel } from './SqlPanel.js';
import { StatusLine } from './StatusLine.js';
import { SCREENS } from './stepScreens.js';
import type { AppSession } from './session.js';
import type { ActionRequest } from './screenProps.js';
import { useTone } from './Theme.js';

export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;
/** Below this width the checklist is a header line instead of a side column. */
const SIDE_COLUMN_FROM = 120;

export interface AppProps {
  session: AppSession;
  /** called once, with the exit code, when the user quits (after a running step stopped safely) */
  onExit(code: number): void;
  /** start on this step instead of the migration's next one */
  initialStep?: ChecklistId;
}

/** The checklist step a state step belongs to (finish is done from Swap, maintain from Monitor). */
const SCREEN_OF: Partial<Record<StateStepId, ChecklistId>> = { finish: 'swap', maintain: 'monitor' };

/** The checklist app: a view on the engine (through the registry) and the migration's state. No SQL and no timers here. */
export function App({ session, onExit, initialStep }: AppProps) {
  const color = useTone();
  const { columns, rows } = useTerminalSize();
  const facts = useMigrationFacts(session);
  const runner = useStepRunner(session, () => facts.refresh());
  const [current, setCurrent] = useState<ChecklistId | null>(initialStep ?? null);
  const history = useRef<ChecklistId[]>([]);
  const [overlay, setOverlay] = useState<null | 'help' | 'quit' | 'stopping'>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [showSql, setShowSql] = useState(false);
  const exited = useRef(false);

  // the engine computes the state; this process adds only what the journal cannot know (its running step, its check)
  const checkRun = runner.runs.check?.status;
  const state: MigrationState | null = useMemo(
    () => (facts.facts ? migrationState(facts.facts, { running: (runner.running as StateStepId | null) ?? null, check: checkRun }) : null),
    [facts.facts, runner.running, checkRun],
  );
  const nextId = state?.next ? (SCREEN_OF[state.next.step] ?? (state.next.step as ChecklistId)) : null;
  const rollbackAvailable = state !== null && ((state.phase !== 'nothing' && state.phase !== 'finished') || state.steps.rollback.state !== 'pending');

  // reopening continues where the migration stands: its next step, once the state is read
  useEffect(() => {
    if (current === null && state) setCurrent(nextId ?? 'monitor');
  }, [current, state, nextId]);

  const def = stepById(current ?? 'check');
  const journalProgress = useCopyProgress(session, current === 'migrate' && runner.running !== 'migrate');
  const sql = useStepSql(session, def, showSql, state);

  const exit = useCallback(
    (code: number) => {
      if (exited.current) return;
      exited.current = true;
      onExit(code);
    },
    [onExit],
  );

  const go = useCallback((id: ChecklistId) => {
    setCurrent((cur) => {
      if (cur && cur !== id) history.current.push(cur);
      return id;
    });
    setShowSql(false);
    setNotice(null);
  }, []);

  // a key asks for a step: the state's answer first (refused: said here, nothing runs), then its confirmation
  const request = useCallback(
    (a: ActionRequest) => {
      if (session.readOnly || runner.running || !state) return;
      const step = stepByCommand(a.command);
      if (!step) return;
      const owner = a.step ?? current ?? 'check';
      const parsed = optionsOf(step, a.flags ?? {});
      if ('usage' in parsed) return setNotice(parsed.usage);
      const refused = step.refuse?.(state, parsed.options);
      if (refused) return setNotice(`${step.command} refused: ${refused}; nothing was changed`);
      setNotice(null);
      const start = () => {
        setConfirm(null);
        runner.start(owner, a.command, a.flags ?? {});
        facts.refresh();
      };
      if (step.confirm === 'none') return start();
      const question = step.question?.(session.engine.cfg, parsed.options, state) ?? `Run ${step.command}?`;
      setConfirm({ question, expect: step.confirm === 'y' ? 'y' : { typed: session.engine.cfg.table }, onYes: start });
    },
    [session, runner, current, state, facts],
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
      // a toggle from the current value: a second ? typed before the redraw still closes it
      if (input === '?') return setOverlay((o) => (o === 'help' ? null : 'help'));
      if (input === 's') return setShowSql((v) => !v);
      if (key.escape) {
        if (showSql) return setShowSql(false);
        if (notice) return setNotice(null);
        const back = history.current.pop();
        if (back) setCurrent(back);
        return;
      }
      const byKey = stepByKey(input);
      if (byKey && (byKey !== ROLLBACK_STEP || rollbackAvailable)) return go(byKey.id as ChecklistId);
      if (key.tab) {
        // from the current value, not this render's: two tabs typed before the redraw move two steps
        const move = (cur: ChecklistId | null): ChecklistId => {
          const i = CHECKLIST.findIndex((s) => s.id === cur);
          const j = key.shift ? (i <= 0 ? CHECKLIST.length - 1 : i - 1) : (i + 1) % CHECKLIST.length;
          return CHECKLIST[j]!.id as ChecklistId;
        };
        setCurrent((cur) => {
          if (cur) history.current.push(cur);
          return move(cur);
        });
        setShowSql(false);
        setNotice(null);
        return;
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
  const confirmRows = confirm ? 7 : notice ? 4 : 0;

  const server = (
    <StatusLine
      target={session.server.target} version={session.server.version} embedded={session.server.embedded}
      table={`${session.engine.cfg.schema}.${session.engine.cfg.table}`} health={facts.health} readOnly={session.readOnly}
    />
  );
  if (current === null || state === null) {
    return (
      <Box flexDirection="column" height={height}>
        {server}
        <Text>reading the journal…</Text>
      </Box>
    );
  }
  const Screen = SCREENS[current];
  const screenActive = overlay === null && confirm === null && !showSql;
  const keys: KeyHint[] = [
    ...(session.readOnly ? [] : (def.keys ?? []).map((k): KeyHint => [keysText(k), k.label])),
    ['1-7', 'step'], ['tab', 'next'], ['s', showSql ? 'hide SQL' : 'SQL'], ...(rollbackAvailable ? [['R', 'rollback'] as KeyHint] : []), ['?', 'help'], ['q', 'quit'],
  ];
  const view = state.steps[(def.stateOf ?? def.id) as StateStepId];

  return (
    <Box flexDirection="column" height={height}>
      {server}
      {compact ? <Checklist migration={state} current={current} rollbackAvailable={rollbackAvailable} compact /> : null}
      <Box height={mainHeight}>
        {!compact ? <Checklist migration={state} current={current} rollbackAvailable={rollbackAvailable} compact={false} /> : null}
        <Box flexDirection="column" flexGrow={1} paddingLeft={compact ? 0 : 1} height={mainHeight} overflowY="hidden">
          {overlay === 'quit' ? (
            <Box borderStyle="round" borderColor={color('warn')} paddingX={1} flexDirection="column">
              <Text>{runner.running} is running. Stop it safely and quit? The current batch commits and the journal records it; the next start resumes.</Text>
              <Text bold>y: stop and quit · any other key: keep running</Text>
            </Box>
          ) : null}
          {overlay === 'stopping' ? <Text color={color('warn')}>stopping {runner.running ?? ''} at the next safe point, then quitting…</Text> : null}
          {confirm ? <ConfirmPrompt request={confirm} onCancel={() => setConfirm(null)} /> : null}
          {notice && !confirm ? (
            <Box borderStyle="round" borderColor={color('warn')} paddingX={1}>
              <Text wrap="wrap" color={color('warn')}>{notice}</Text>
            </Box>
          ) : null}
          {overlay === 'help' ? <HelpOverlay height={mainHeight} /> : null}
          {showSql && overlay !== 'help' ? <SqlPanel sql={sql} height={mainHeight - confirmRows} isActive={overlay === null && confirm === null} /> : null}
          <Box display={overlay === 'help' || showSql ? 'none' : 'flex'} flexDirection="column">
            <Screen
              key={current}
              session={session} info={def} run={runner.runs[current]} view={view} migration={state} health={facts.health}
              width={contentWidth} height={mainHeight - confirmRows - (overlay === 'quit' ? 4 : 0)} isActive={screenActive}
              busy={runner.running !== null} request={request} journalProgress={journalProgress}
            />
          </Box>
        </Box>
      </Box>
      <Footer keys={keys} />
    </Box>
  );
}
