import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createReliable,
  decodePacket,
  encodePacket,
  isL2tpDecodeError,
  seqBefore,
  stepReliable,
  type ReliableAction,
  type ReliableConfig,
  type ReliableState,
} from '../../../../edge-agent/src/l2tp/index';
import { Harness } from '../../../support/l2tp/harness';

/** Drives one channel with a fake clock; the "peer" is the test. */
class Driver {
  now = 0;
  state: ReliableState;
  timers = new Map<string, number>();
  transmitted: Array<{ at: number; ns: number; nr: number; zlb: boolean; body: string }> = [];
  delivered: string[] = [];
  failed?: string;
  constructor(config: Partial<ReliableConfig> = {}) {
    this.state = createReliable({ peerTunnelId: 7, ...config });
  }
  apply(actions: ReliableAction[]): void {
    for (const a of actions) {
      if (a.kind === 'transmit') {
        const p = decodePacket(a.bytes);
        assert.ok(!isL2tpDecodeError(p));
        assert.equal(p.header.tunnelId, 7);
        this.transmitted.push({ at: this.now, ns: p.header.ns!, nr: p.header.nr!, zlb: p.payload.length === 0, body: Buffer.from(p.payload).toString() });
      } else if (a.kind === 'set-timer') this.timers.set(a.name, this.now + a.ms);
      else if (a.kind === 'cancel-timer') this.timers.delete(a.name);
      else if (a.kind === 'deliver') this.delivered.push(Buffer.from(a.body).toString());
      else this.failed = a.reason;
    }
  }
  send(text: string): void {
    const r = stepReliable(this.state, { kind: 'send', message: { sessionId: 0, body: Buffer.from(text) } });
    this.state = r.state;
    this.apply(r.actions);
  }
  receive(ns: number, nr: number, text = ''): void {
    const bytes = encodePacket({ isControl: true, tunnelId: 1, sessionId: 0, ns, nr }, Buffer.from(text));
    const p = decodePacket(bytes);
    assert.ok(!isL2tpDecodeError(p));
    const r = stepReliable(this.state, { kind: 'received', header: p.header, body: p.payload });
    this.state = r.state;
    this.apply(r.actions);
  }
  /** Advance the clock, firing due timers in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers].filter(([, at]) => at <= end).sort((a, b) => a[1] - b[1])[0];
      if (!due) break;
      this.now = due[1];
      this.timers.delete(due[0]);
      const r = stepReliable(this.state, { kind: 'timer', name: due[0] as 'retransmit' | 'ack' });
      this.state = r.state;
      this.apply(r.actions);
    }
    this.now = end;
  }
}

describe('16-bit sequence compare', () => {
  for (const [a, b, before] of [
    [0, 1, true],
    [1, 0, false],
    [0xffff, 0, true],
    [0xfff0, 5, true],
    [5, 0xfff0, false],
    [3, 3, false],
  ] as const) {
    test(`${a} before ${b} is ${before}`, () => assert.equal(seqBefore(a, b), before));
  }
});

describe('reliable control channel (§5.8)', () => {
  test('loss: retransmits with 1,2,4,8,8 s backoff then gives up', () => {
    const d = new Driver();
    d.send('SCCRQ');
    d.advance(60_000);
    assert.deepEqual(d.transmitted.map((t) => t.at), [0, 1000, 3000, 7000, 15000, 23000]);
    assert.ok(d.transmitted.every((t) => t.ns === 0 && t.body === 'SCCRQ'));
    assert.match(d.failed ?? '', /5 retransmissions/);
    assert.equal(d.state.failed, true);
    d.send('more');
    assert.equal(d.transmitted.length, 6, 'a failed channel sends nothing');
  });

  test('an ack stops retransmission and resets the backoff', () => {
    const d = new Driver();
    d.send('A');
    d.advance(1500); // one retransmit at 1 s
    d.receive(0, 1); // ZLB acking A
    assert.equal(d.state.inFlight.length, 0);
    assert.equal(d.timers.has('retransmit'), false);
    d.send('B');
    d.advance(1000);
    assert.deepEqual(d.transmitted.map((t) => `${t.body}@${t.at}`), ['A@0', 'A@1000', 'B@1500', 'B@2500']);
  });

  test('delayed ZLB ack, and piggy-backing cancels it', () => {
    const d = new Driver({ ackDelayMs: 100 });
    d.receive(0, 0, 'HELLO');
    assert.deepEqual(d.delivered, ['HELLO']);
    assert.equal(d.transmitted.length, 0, 'not acked at once');
    d.advance(100);
    assert.deepEqual(d.transmitted, [{ at: 100, ns: 0, nr: 1, zlb: true, body: '' }]);
    d.receive(1, 0, 'ICRQ');
    d.send('ICRP');
    d.advance(500);
    assert.deepEqual(d.transmitted.slice(1).map((t) => [t.body, t.nr]), [['ICRP', 2]], 'ICRP carried the ack, no ZLB');
  });

  test('duplicates are re-acked at once and not re-delivered', () => {
    const d = new Driver();
    d.receive(0, 0, 'X');
    d.advance(200);
    d.receive(0, 0, 'X');
    d.receive(0, 0, 'X');
    assert.deepEqual(d.delivered, ['X']);
    assert.deepEqual(d.transmitted.map((t) => [t.zlb, t.nr, t.at]), [[true, 1, 100], [true, 1, 200], [true, 1, 200]]);
  });

  test('out-of-order arrivals are held and delivered in order', () => {
    const d = new Driver();
    d.receive(2, 0, 'c');
    d.receive(1, 0, 'b');
    assert.deepEqual(d.delivered, []);
    d.receive(0, 0, 'a');
    assert.deepEqual(d.delivered, ['a', 'b', 'c']);
    assert.equal(d.state.nr, 3);
    d.receive(200, 0, 'far'); // beyond our window: dropped
    d.receive(3, 0, 'd');
    assert.deepEqual(d.delivered, ['a', 'b', 'c', 'd']);
  });

  test('peer window 1 (Android): one message in flight, the next waits for the ack', () => {
    const d = new Driver({ peerReceiveWindow: 1 });
    d.send('1');
    d.send('2');
    d.send('3');
    assert.deepEqual(d.transmitted.map((t) => t.body), ['1']);
    d.receive(0, 1);
    assert.deepEqual(d.transmitted.map((t) => t.body), ['1', '2']);
    d.receive(0, 2);
    d.receive(0, 3);
    assert.deepEqual(d.transmitted.map((t) => [t.body, t.ns]), [['1', 0], ['2', 1], ['3', 2]]);
    assert.equal(d.state.inFlight.length, 0);
  });

  test('default window 4 when the peer sent none', () => {
    const d = new Driver();
    for (const m of 'abcdef') d.send(m);
    assert.equal(d.transmitted.length, 4);
    d.receive(0, 2);
    assert.equal(d.transmitted.length, 6);
  });

  test('sequence numbers wrap at 65536', () => {
    const d = new Driver();
    d.state = { ...d.state, ns: 0xffff, nr: 0xffff };
    d.send('w');
    d.send('x');
    d.receive(0xffff, 1, 'y');
    d.receive(0, 1, 'z');
    assert.deepEqual(d.transmitted.map((t) => t.ns), [0xffff, 0]);
    assert.equal(d.state.inFlight.length, 0);
    assert.deepEqual(d.delivered, ['y', 'z']);
    assert.equal(d.state.nr, 1);
  });

  test('a bogus Nr beyond what we sent acknowledges nothing', () => {
    const d = new Driver();
    d.send('a');
    d.receive(0, 40);
    assert.equal(d.state.inFlight.length, 1);
  });
});

describe('engines under loss, duplication and a window-1 peer', () => {
  const scenarios: Array<[string, ConstructorParameters<typeof Harness>[0]]> = [
    ['a fifth of the packets lost, both ways', { filter: (f, _b, i) => ((i * 7 + (f === 'lac' ? 3 : 0)) % 5 === 1 ? 'drop' : 'pass') }],
    ['every packet duplicated', { filter: () => 'dup' }],
    ['LAC advertises window 1 and retransmits every 2 s fixed', {
      lac: { receiveWindowSize: 1, reliable: { initialRtoMs: 2000, maxRtoMs: 2000 } },
      filter: (f, _b, i) => (f === 'lns' && i === 0 ? 'drop' : 'pass'),
    }],
  ];
  for (const [name, opts] of scenarios) {
    test(`${name}: tunnel and two sessions still come up`, () => {
      const h = new Harness(opts);
      h.feed('lac', { kind: 'open' });
      h.feed('lac', { kind: 'place-call' });
      h.feed('lac', { kind: 'place-call' });
      h.run(30_000);
      assert.equal(h.kinds('lns').filter((k) => k === 'session-established').length, 2);
      assert.equal(h.kinds('lac').filter((k) => k === 'session-established').length, 2);
      assert.equal(h.kinds('lns').filter((k) => k === 'session-requested').length, 2, 'no duplicate delivery');
    });
  }
});
