/**
 * The option negotiation automaton of RFC 1661 §4, shared by LCP and every NCP. The transition table
 * (§4.1) is data; `fsmStep` is pure and returns abstract actions (§4.4) that the protocol layer turns
 * into packets. Counters follow §4.6: irc loads Max-Configure (or Max-Terminate when the same step
 * sends a Terminate-Request), every scr/str consumes one, zrc zeroes it; TO+ while it is > 0.
 */

export const FSM_STATES = [
  'initial',
  'starting',
  'closed',
  'stopped',
  'closing',
  'stopping',
  'req-sent',
  'ack-rcvd',
  'ack-sent',
  'opened',
] as const;
export type FsmStateName = (typeof FSM_STATES)[number];

export const FSM_EVENTS = [
  'up',
  'down',
  'open',
  'close',
  'to+',
  'to-',
  'rcr+',
  'rcr-',
  'rca',
  'rcn',
  'rtr',
  'rta',
  'ruc',
  'rxj+',
  'rxj-',
  'rxr',
] as const;
export type FsmEvent = (typeof FSM_EVENTS)[number];

export type FsmAction = 'tlu' | 'tld' | 'tls' | 'tlf' | 'irc' | 'zrc' | 'scr' | 'sca' | 'scn' | 'str' | 'sta' | 'scj' | 'ser';

export interface FsmTransition {
  readonly actions: readonly FsmAction[];
  readonly next: FsmStateName;
}

/** One table cell as written in RFC 1661 §4.1, e.g. "irc,scr/6" or "4"; "-" is an impossible event. */
type Cell = string;
const STATE_BY_NUMBER = FSM_STATES;

// Rows are events, columns are states 0..9 (Initial..Opened). Copied cell for cell from §4.1; the
// "r" (restart), "p" (passive) and "x" (crossed connection) annotations are implementation notes
// and are dropped: we implement neither the restart nor the passive option.
const TABLE_TEXT: Record<FsmEvent, readonly Cell[]> = {
  up: ['2', 'irc,scr/6', '-', '-', '-', '-', '-', '-', '-', '-'],
  down: ['-', '-', '0', 'tls/1', '0', '1', '1', '1', '1', 'tld/1'],
  open: ['tls/1', '1', 'irc,scr/6', '3', '5', '5', '6', '7', '8', '9'],
  close: ['0', 'tlf/0', '2', '2', '4', '4', 'irc,str/4', 'irc,str/4', 'irc,str/4', 'tld,irc,str/4'],
  'to+': ['-', '-', '-', '-', 'str/4', 'str/5', 'scr/6', 'scr/6', 'scr/8', '-'],
  'to-': ['-', '-', '-', '-', 'tlf/2', 'tlf/3', 'tlf/3', 'tlf/3', 'tlf/3', '-'],
  'rcr+': ['-', '-', 'sta/2', 'irc,scr,sca/8', '4', '5', 'sca/8', 'sca,tlu/9', 'sca/8', 'tld,scr,sca/8'],
  'rcr-': ['-', '-', 'sta/2', 'irc,scr,scn/6', '4', '5', 'scn/6', 'scn/7', 'scn/6', 'tld,scr,scn/6'],
  rca: ['-', '-', 'sta/2', 'sta/3', '4', '5', 'irc/7', 'scr/6', 'irc,tlu/9', 'tld,scr/6'],
  rcn: ['-', '-', 'sta/2', 'sta/3', '4', '5', 'irc,scr/6', 'scr/6', 'irc,scr/8', 'tld,scr/6'],
  rtr: ['-', '-', 'sta/2', 'sta/3', 'sta/4', 'sta/5', 'sta/6', 'sta/6', 'sta/6', 'tld,zrc,sta/5'],
  rta: ['-', '-', '2', '3', 'tlf/2', 'tlf/3', '6', '6', '8', 'tld,scr/6'],
  ruc: ['-', '-', 'scj/2', 'scj/3', 'scj/4', 'scj/5', 'scj/6', 'scj/7', 'scj/8', 'scj/9'],
  'rxj+': ['-', '-', '2', '3', '4', '5', '6', '6', '8', '9'],
  'rxj-': ['-', '-', 'tlf/2', 'tlf/3', 'tlf/2', 'tlf/3', 'tlf/3', 'tlf/3', 'tlf/3', 'tld,irc,str/5'],
  rxr: ['-', '-', '2', '3', '4', '5', '6', '7', '8', 'ser/9'],
};

function parseCell(cell: Cell): FsmTransition | null {
  if (cell === '-') return null;
  const slash = cell.lastIndexOf('/');
  const actions = slash < 0 ? [] : (cell.slice(0, slash).split(',') as FsmAction[]);
  const next = STATE_BY_NUMBER[Number(slash < 0 ? cell : cell.slice(slash + 1))];
  if (next === undefined) throw new Error(`bad FSM table cell ${cell}`); // table is a constant: fails at load
  return { actions, next };
}

/** The full transition table: `FSM_TABLE[state][event]`, null where §4.1 says the event cannot occur. */
export const FSM_TABLE: Readonly<Record<FsmStateName, Readonly<Record<FsmEvent, FsmTransition | null>>>> = Object.fromEntries(
  FSM_STATES.map((state, column) => [
    state,
    Object.fromEntries(FSM_EVENTS.map((event) => [event, parseCell(TABLE_TEXT[event][column] ?? '-')])),
  ]),
) as Record<FsmStateName, Record<FsmEvent, FsmTransition | null>>;

/** States in which the restart timer runs (RFC 1661 §4.2 state descriptions). */
export const TIMER_STATES: ReadonlySet<FsmStateName> = new Set(['closing', 'stopping', 'req-sent', 'ack-rcvd', 'ack-sent']);

export interface FsmLimits {
  /** RFC 1661 §4.6 defaults: 10 */
  readonly maxConfigure: number;
  /** default 2 */
  readonly maxTerminate: number;
  /** default 5 */
  readonly maxFailure: number;
}

export const DEFAULT_FSM_LIMITS: FsmLimits = { maxConfigure: 10, maxTerminate: 2, maxFailure: 5 };

export interface FsmData {
  readonly state: FsmStateName;
  readonly restartCount: number;
  /** Configure-Naks sent since the last Configure-Ack; at Max-Failure, Naks become Rejects (§4.6). */
  readonly failureCount: number;
}

export const INITIAL_FSM: FsmData = { state: 'initial', restartCount: 0, failureCount: 0 };

export interface FsmStepResult {
  readonly fsm: FsmData;
  readonly actions: readonly FsmAction[];
  /** 'start' (re)arms the restart timer, 'stop' cancels it, 'keep' leaves it as it is. */
  readonly timer: 'start' | 'stop' | 'keep';
  /** False when §4.1 marks the event impossible in this state: nothing changed. */
  readonly defined: boolean;
}

/** Applies one event. Impossible events leave the state unchanged and report `defined: false`. */
export function fsmStep(fsm: FsmData, event: FsmEvent, limits: FsmLimits = DEFAULT_FSM_LIMITS): FsmStepResult {
  const t = FSM_TABLE[fsm.state][event];
  if (!t) return { fsm, actions: [], timer: 'keep', defined: false };
  let { restartCount, failureCount } = fsm;
  let armed = false;
  for (const a of t.actions) {
    switch (a) {
      case 'irc':
        restartCount = t.actions.includes('str') ? limits.maxTerminate : limits.maxConfigure;
        failureCount = 0;
        break;
      case 'zrc':
        restartCount = 0;
        armed = true; // §4.4 zrc: the timer still runs once so the Terminate-Ack can arrive
        break;
      case 'scr':
      case 'str':
        restartCount = Math.max(0, restartCount - 1);
        armed = true;
        break;
      case 'sca':
        failureCount = 0;
        break;
      case 'scn':
        failureCount += 1;
        break;
      default:
        break;
    }
  }
  const timer = TIMER_STATES.has(t.next) ? (armed ? 'start' : 'keep') : 'stop';
  return { fsm: { state: t.next, restartCount, failureCount }, actions: t.actions, timer, defined: true };
}

/** Which event a restart-timer expiry is: TO+ while the counter is positive, else TO- (§4.3). */
export function timeoutEvent(fsm: FsmData): 'to+' | 'to-' {
  return fsm.restartCount > 0 ? 'to+' : 'to-';
}
