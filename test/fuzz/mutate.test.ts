import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, L2tpDecodeError } from '../../edge-agent/src/l2tp';
import { describePacket } from './capture';
import { loadCorpus } from './corpus';
import { applyMutation, headerFields, MUTATIONS, MutationStream, retarget } from './mutate';
import { Prng } from './prng';

const corpus = loadCorpus();

test('the kept corpus covers full sessions in both directions and its control packets decode', () => {
  const notes = new Set(corpus.map((p) => p.note));
  for (const n of ['SCCRQ', 'SCCRP', 'SCCCN', 'ICRQ', 'ICRP', 'ICCN', 'HELLO', 'ZLB', 'CDN', 'StopCCN', 'LCP', 'CHAP', 'PAP', 'IPCP', 'IPv4']) assert.ok(notes.has(n), `corpus lacks ${n}`);
  assert.ok(corpus.some((p) => p.dir === 'lns->lac') && corpus.some((p) => p.dir === 'lac->lns'));
  for (const p of corpus) {
    assert.ok(!describePacket(p.bytes).endsWith('?'), `undecodable corpus packet ${p.note}`);
    if ((p.bytes[0]! & 0x80) !== 0) assert.ok(!(decodePacket(p.bytes) instanceof L2tpDecodeError));
  }
});

test('the PRNG and the mutation stream are reproducible from the seed', () => {
  const run = (seed: number) => {
    const s = new MutationStream(corpus, new Prng(seed));
    return Array.from({ length: 500 }, () => s.next().map((d) => Buffer.from(d.bytes).toString('hex')).join('|'));
  };
  assert.deepEqual(run(42), run(42));
  assert.notDeepEqual(run(42), run(43));
});

test('every mutation changes the datagram (content or length) most of the time', () => {
  const rng = new Prng(7);
  for (const name of MUTATIONS) {
    let changed = 0;
    for (let i = 0; i < 200; i++) {
      const input = rng.pick(corpus).bytes;
      const out = applyMutation(rng, name, input, rng.pick(corpus).bytes);
      if (Buffer.compare(Buffer.from(out), Buffer.from(input)) !== 0) changed++;
    }
    assert.ok(changed >= 120, `${name} changed only ${changed}/200`);
  }
});

test('the stream mixes single mutations, duplicates, reorders and verbatim replays', () => {
  const s = new MutationStream(corpus, new Prng(1));
  const ops = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const group = s.next();
    for (const d of group) ops.add(d.op);
    if (group[0]?.op === 'duplicate') assert.deepEqual(group[0].bytes, group[1]?.bytes);
    if (group[0]?.op === 'replay') assert.deepEqual(group[0].bytes, corpus[group[0].source]!.bytes);
  }
  assert.deepEqual([...ops].sort(), ['duplicate', 'mutated', 'reorder', 'replay']);
});

test('headerFields and retarget follow the flag bits (§3.1)', () => {
  const control = corpus.find((p) => p.note === 'ICCN')!.bytes;
  assert.deepEqual(headerFields(control), { length: 2, tunnelId: 4, sessionId: 6, ns: 8, nr: 10, end: 12 });
  const moved = retarget(control, 0xbeef, 0x1234);
  assert.equal(Buffer.from(moved).readUInt16BE(4), 0xbeef);
  assert.equal(Buffer.from(moved).readUInt16BE(6), 0x1234);
  const data = corpus.find((p) => p.note === 'IPv4')!.bytes;
  const h = headerFields(data)!;
  const movedData = retarget(data, 0x0102, 0x0304);
  assert.equal(Buffer.from(movedData).readUInt16BE(h.tunnelId), 0x0102);
  assert.equal(Buffer.from(movedData).readUInt16BE(h.sessionId), 0x0304);
  // A tunnel-level message (Session ID 0) keeps Session ID 0.
  const hello = corpus.find((p) => p.note === 'HELLO')!.bytes;
  assert.equal(Buffer.from(retarget(hello, 9, 9)).readUInt16BE(6), 0);
  assert.equal(headerFields(Uint8Array.of(0xc8, 0x02, 0, 12)), undefined);
});
