/**
 * RFC 1661 §4.1 automaton. The expected table below is a second, column-wise transcription of §4.1
 * (one line per state), so a typo in either copy shows up as a mismatch.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FSM_EVENTS, FSM_STATES, FSM_TABLE, fsmStep, INITIAL_FSM, timeoutEvent, type FsmData, type FsmStateName } from '../../../../edge-agent/src/ppp';

// Order of events per line: Up Down Open Close TO+ TO- RCR+ RCR- RCA RCN RTR RTA RUC RXJ+ RXJ- RXR
const BY_STATE: Record<FsmStateName, string> = {
  initial: '2 | - | tls/1 | 0 | - | - | - | - | - | - | - | - | - | - | - | -',
  starting: 'irc,scr/6 | - | 1 | tlf/0 | - | - | - | - | - | - | - | - | - | - | - | -',
  closed: '- | 0 | irc,scr/6 | 2 | - | - | sta/2 | sta/2 | sta/2 | sta/2 | sta/2 | 2 | scj/2 | 2 | tlf/2 | 2',
  stopped: '- | tls/1 | 3 | 2 | - | - | irc,scr,sca/8 | irc,scr,scn/6 | sta/3 | sta/3 | sta/3 | 3 | scj/3 | 3 | tlf/3 | 3',
  closing: '- | 0 | 5 | 4 | str/4 | tlf/2 | 4 | 4 | 4 | 4 | sta/4 | tlf/2 | scj/4 | 4 | tlf/2 | 4',
  stopping: '- | 1 | 5 | 4 | str/5 | tlf/3 | 5 | 5 | 5 | 5 | sta/5 | tlf/3 | scj/5 | 5 | tlf/3 | 5',
  'req-sent': '- | 1 | 6 | irc,str/4 | scr/6 | tlf/3 | sca/8 | scn/6 | irc/7 | irc,scr/6 | sta/6 | 6 | scj/6 | 6 | tlf/3 | 6',
  'ack-rcvd': '- | 1 | 7 | irc,str/4 | scr/6 | tlf/3 | sca,tlu/9 | scn/7 | scr/6 | scr/6 | sta/6 | 6 | scj/7 | 6 | tlf/3 | 7',
  'ack-sent': '- | 1 | 8 | irc,str/4 | scr/8 | tlf/3 | sca/8 | scn/6 | irc,tlu/9 | irc,scr/8 | sta/6 | 8 | scj/8 | 8 | tlf/3 | 8',
  opened: '- | tld/1 | 9 | tld,irc,str/4 | - | - | tld,scr,sca/8 | tld,scr,scn/6 | tld,scr/6 | tld,scr/6 | tld,zrc,sta/5 | tld,scr/6 | scj/9 | 9 | tld,irc,str/5 | ser/9',
};

describe('RFC 1661 §4.1 transition table', () => {
  for (const state of FSM_STATES) {
    const cells = BY_STATE[state].split('|').map((c) => c.trim());
    assert.equal(cells.length, FSM_EVENTS.length);
    FSM_EVENTS.forEach((event, i) => {
      test(`${state} × ${event} = ${cells[i]}`, () => {
        const cell = cells[i]!;
        const t = FSM_TABLE[state][event];
        if (cell === '-') {
          assert.equal(t, null);
          const r = fsmStep({ state, restartCount: 3, failureCount: 0 }, event);
          assert.equal(r.defined, false);
          assert.equal(r.fsm.state, state);
          return;
        }
        const [acts, num] = cell.includes('/') ? cell.split('/') : ['', cell];
        assert.deepEqual(t, { actions: acts ? acts.split(',') : [], next: FSM_STATES[Number(num)] });
        const r = fsmStep({ state, restartCount: 3, failureCount: 0 }, event);
        assert.equal(r.fsm.state, FSM_STATES[Number(num)]);
        assert.deepEqual(r.actions, t?.actions);
      });
    });
  }
});

describe('counters and the restart timer (§4.6)', () => {
  const limits = { maxConfigure: 3, maxTerminate: 2, maxFailure: 2 };
  test('Max-Configure requests, then TO- ends in Stopped with tlf', () => {
    let f: FsmData = INITIAL_FSM;
    f = fsmStep(f, 'open', limits).fsm;
    const up = fsmStep(f, 'up', limits);
    assert.deepEqual([up.fsm.state, up.fsm.restartCount, up.timer], ['req-sent', 2, 'start']);
    f = up.fsm;
    let sent = 1;
    while (timeoutEvent(f) === 'to+') {
      const r = fsmStep(f, 'to+', limits);
      assert.deepEqual(r.actions, ['scr']);
      f = r.fsm;
      sent++;
    }
    assert.equal(sent, 3);
    const end = fsmStep(f, 'to-', limits);
    assert.deepEqual([end.fsm.state, end.actions, end.timer], ['stopped', ['tlf'], 'stop']);
  });
  test('Close from Opened sends Max-Terminate requests', () => {
    let r = fsmStep({ state: 'opened', restartCount: 0, failureCount: 0 }, 'close', limits);
    assert.deepEqual([r.fsm.state, r.fsm.restartCount, r.timer], ['closing', 1, 'start']);
    r = fsmStep(r.fsm, timeoutEvent(r.fsm), limits);
    assert.deepEqual([r.actions, r.fsm.restartCount], [['str'], 0]);
    assert.equal(timeoutEvent(r.fsm), 'to-');
    r = fsmStep(r.fsm, 'to-', limits);
    assert.deepEqual([r.fsm.state, r.actions], ['closed', ['tlf']]);
  });
  test('RTR in Opened zeroes the counter but runs the timer once (zrc)', () => {
    const r = fsmStep({ state: 'opened', restartCount: 5, failureCount: 0 }, 'rtr', limits);
    assert.deepEqual([r.fsm.state, r.fsm.restartCount, r.timer], ['stopping', 0, 'start']);
    assert.equal(timeoutEvent(r.fsm), 'to-');
  });
  test('scn counts failures, sca resets them; reaching Opened stops the timer', () => {
    let r = fsmStep({ state: 'req-sent', restartCount: 5, failureCount: 0 }, 'rcr-', limits);
    r = fsmStep(r.fsm, 'rcr-', limits);
    assert.equal(r.fsm.failureCount, 2);
    r = fsmStep(r.fsm, 'rcr+', limits);
    assert.deepEqual([r.fsm.state, r.fsm.failureCount, r.timer], ['ack-sent', 0, 'keep']);
    r = fsmStep(r.fsm, 'rca', limits);
    assert.deepEqual([r.fsm.state, r.actions, r.timer], ['opened', ['irc', 'tlu'], 'stop']);
  });
});
