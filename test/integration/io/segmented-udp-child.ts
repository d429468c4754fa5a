/**
 * Runs inside a throwaway network namespace for segmented-udp.test.ts: sets loopback's MTU to
 * argv[2], then sends two runs through the marked socket with segmentation on, one of datagrams
 * above that MTU (the kernel must refuse the GSO message: the socket then sends them one by one)
 * and one below it, and prints what a receiver got and the socket's counters as JSON.
 */
import { execFileSync } from 'node:child_process';
import { openUdp } from '../../../edge-agent/src/io/udp';

const mtu = Number(process.argv[2]);
execFileSync('ip', ['link', 'set', 'lo', 'up', 'mtu', String(mtu)]);
const sender = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto', segmentation: true });
const receiver = await openUdp({ address: '127.0.0.1', port: 0, receiveBufferSize: 1 << 20 });
const got: string[] = [];
receiver.onMessage((data) => got.push(data.toString()));
const errors: string[] = [];
sender.onError((e) => errors.push(e.message));

const datagram = (tag: string, length: number) => Buffer.from(tag.padEnd(length, '.'));
const send = async (tag: string, count: number, length: number) => {
  for (let i = 0; i < count; i++) sender.send(datagram(`${tag}${i}`, length), receiver.port, '127.0.0.1', 3);
  const until = Date.now() + 5000;
  while (got.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  const counters = { ...sender.segmented };
  const result = { got: got.splice(0), counters };
  return result;
};
const above = await send('big', 10, mtu + 100);
const below = await send('small', 10, mtu - 200);
const again = await send('big-again', 10, mtu + 100);
await sender.close();
await receiver.close();
console.log(JSON.stringify({ above, below, again, errors, marks: sender.marks }));
