import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useInput } from 'ink';
import { useMigrationFacts } from '../hooks/useMigrationState.js';
import { useStepRunner } from '../hooks/useStepRunner.js';
import { useStepSql } from '../hooks/useStepSql.js';
import { useTerminalSize } from '../hooks/useTerminalSize.js';
import { useCopyProgress } from '../hooks/useCopyProgress.js';
import { optionsOf } from '../registry/dispatch.js';
import { CHECKLIST, ROLLBACK_STEP, stepByCommand, stepByKey, stepById, type ChecklistId } from '../registry/index.js';
import { migrationState, type MigrationState, type StateStepId } from '../state/migrationState.js';
import { AppFrame } from './AppFrame.js';
import type { ConfirmRequest } from './ConfirmPrompt.js';
import type { KeyHint } from './Footer.js';
import { keysText } from './HelpOverlay.js';
import { SqlPanel } from './SqlPanel.js';
import { SCREENS } from './stepScreens.js';
import type { AppSession } from './session.js';
import type { ActionRequest } from './screenProps.js';

export { MIN_COLUMNS, MIN_ROWS } from './AppFrame.js';

export interface AppProps {
  session: AppSession;
  /** called once, with the exit code, when the user quits (after a running step stopped safely) */
  onExit(code: number): void;
  /** start on this step instead of the migration's next one */
  initialStep?: ChecklistId;
}

type Overlay = null | 'help' | 'quit' | 'stopping';

/** The checklist step a state step belongs to (finish is done from Swap, maintain from Monitor). */
const SCREEN_OF: Partial<Record<StateStepId, ChecklistId>> = { finish: 'swap', maintain: 'monitor' };

/** The checklist app: a view on the engine (through the registry) and the migration's state. No SQL and no timers here. */
export function App({ session, onExit, initialStep }: AppProps) {
  const { columns, rows } = useTerminalSize();
  const facts = useMigrationFacts(session);
  const runner = useStepRunner(session, () => facts.refresh());
  const [current, setCurrent] = useState<ChecklistId | null>(initialStep ?? null);
  const history = useRef<ChecklistId[]>([]);
  const [overlay, setOverlay] = useState<Overlay>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [showSql, setShowSql] = useState(false);
  const exited = useRef(false);
  /**
   * Who has the keyboard now, updated as each key is handled, before React redraws: keys typed ahead of a redraw
   * (a fast typist, a slow link) are judged by it, so they never reach a screen that is going away or one an
   * overlay or a prompt now covers (enter there would start that screen's step).
   */
  const ui = useRef({ screen: current, overlay: null as Overlay, showSql: false, confirm: false, notice: false });
  const show = useCallback((id: ChecklistId, remember = true) => {
    const cur = ui.current.screen;
    if (remember && cur && cur !== id) history.current.push(cur);
    ui.current.screen = id;
    setCurrent(id);
  }, []);
  const overlayNow = useCallback((o: Overlay) => {
    ui.current.overlay = o;
    setOverlay(o);
  }, []);
  const sqlNow = useCallback((v: boolean) => {
    ui.current.showSql = v;
    setShowSql(v);
  }, []);
  const confirmNow = useCallback((c: ConfirmRequest | null) => {
    ui.current.confirm = c !== null;
    setConfirm(c);
  }, []);
  const noticeNow = useCallback((n: string | null) => {
    ui.current.notice = n !== null;
    setNotice(n);
  }, []);
  /** the keyboard is this screen's: shown, and no overlay, prompt or SQL pane over it */
  const keysReach = useCallback((id: ChecklistId) => {
    const u = ui.current;
    return u.screen === id && u.overlay === null && !u.confirm && !u.showSql;
  }, []);

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
    if (current === null && state) show(nextId ?? 'monitor', false);
  }, [current, state, nextId, show]);

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
    show(id);
    sqlNow(false);
    noticeNow(null);
  }, [show, sqlNow, noticeNow]);

  // a key asks for a step: the state's answer first (refused: said here, nothing runs), then its confirmation
  const request = useCallback(
    (a: ActionRequest) => {
      if (session.readOnly || runner.running || !state) return;
      if (a.notice) return setNotice(a.notice);
      const step = stepByCommand(a.command);
      if (!step) return;
      const owner = a.step ?? current ?? 'check';
      const parsed = optionsOf(step, a.flags ?? {});
      if ('usage' in parsed) return noticeNow(parsed.usage);
      const refused = step.refuse?.(state, parsed.options);
      if (refused) return noticeNow(`${step.command} refused: ${refused}; nothing was changed`);
      noticeNow(null);
      const start = () => {
        confirmNow(null);
        runner.start(owner, a.command, a.flags ?? {});
        facts.refresh();
      };
      if (step.confirm === 'none') return start();
      const question = step.question?.(session.engine.cfg, parsed.options, state) ?? `Run ${step.command}?`;
      confirmNow({ question, expect: step.confirm === 'y' ? 'y' : a.confirmText ?? { typed: session.engine.cfg.table }, onYes: start });
    },
    [session, runner, current, state, facts, noticeNow, confirmNow],
  );

  const quit = useCallback(() => {
    if (!runner.running) return exit(0);
    overlayNow('quit');
  }, [runner.running, exit, overlayNow]);

  useInput(
    (input, key) => {
      const u = ui.current;
      // a prompt opened by a key typed just before: it takes the keys once it is drawn; until then they go nowhere
      if (u.confirm) return;
      if (u.overlay === 'help') {
        if (key.escape || input === 'q' || input === '?') overlayNow(null);
        return;
      }
      if (u.overlay === 'stopping') return;
      if (u.overlay === 'quit') {
        if (input === 'y' || input === 'Y') {
          overlayNow('stopping');
          runner.stop();
          void runner.idle().then(() => exit(130));
        } else overlayNow(null);
        return;
      }
      if (input === 'q' || (key.ctrl && input === 'c')) return quit();
      // from the current value (the ref): a second ? typed before the redraw still closes it
      if (input === '?') return overlayNow(u.overlay === 'help' ? null : 'help');
      if (input === 's') return sqlNow(!u.showSql);
      if (key.escape) {
        if (u.showSql) return sqlNow(false);
        if (u.notice) return noticeNow(null);
        const back = history.current.pop();
        if (back) show(back, false);
        return;
      }
      const byKey = stepByKey(input);
      if (byKey && (byKey !== ROLLBACK_STEP || rollbackAvailable)) return go(byKey.id as ChecklistId);
      if (key.tab) {
        // from the current value (the ref), not this render's: two tabs typed before the redraw move two steps
        const i = CHECKLIST.findIndex((s) => s.id === u.screen);
        const j = key.shift ? (i <= 0 ? CHECKLIST.length - 1 : i - 1) : (i + 1) % CHECKLIST.length;
        go(CHECKLIST[j]!.id as ChecklistId);
        return;
      }
    },
    { isActive: confirm === null },
  );

  const keys: KeyHint[] = [
    ...(session.readOnly ? [] : (def.keys ?? []).map((k): KeyHint => [keysText(k), k.label])),
    ['1-7', 'step'], ['tab', 'next'], ['s', showSql ? 'hide SQL' : 'SQL'], ...(rollbackAvailable ? [['R', 'rollback'] as KeyHint] : []), ['?', 'help'], ['q', 'quit'],
  ];
  const Screen = current ? SCREENS[current] : null;
  const view = state ? state.steps[(def.stateOf ?? def.id) as StateStepId] : null;

  return (
    <AppFrame
      columns={columns} rows={rows}
      status={{
        target: session.server.target, version: session.server.version, embedded: session.server.embedded,
        table: `${session.engine.cfg.schema}.${session.engine.cfg.table}`, health: facts.health, readOnly: session.readOnly,
      }}
      state={state} current={current} rollbackAvailable={rollbackAvailable} keys={keys}
      overlay={overlay} running={runner.running} confirm={confirm} onCancelConfirm={() => confirmNow(null)} notice={notice}
      sql={showSql ? (height) => <SqlPanel sql={sql} height={height} isActive={overlay === null && confirm === null} /> : null}
      tooSmallNote={runner.running ? `${runner.running} is still running; it continues.` : null}
      screen={(slot) =>
        Screen && state && current && view ? (
          <Screen
            key={current}
            session={session} info={def} run={runner.runs[current]} view={view} migration={state} health={facts.health}
            width={slot.width} height={slot.height} isActive={slot.isActive}
            busy={runner.running !== null} journalProgress={journalProgress}
            // a key typed ahead of a screen change or an overlay reaches the old handler: it must not act
            request={(a) => keysReach(current) && request(a)} keysReach={() => keysReach(current)}
          />
        ) : null
      }
    />
  );
}
