/**
 * `npm run bench [-- --quick] [-- --only=control,auth,radius,tunnels,datapath,density,disconnect] [-- --marks=off,auto] [-- --sizes=1400] [-- --inject=gso|packets] [-- --before=DIR]`:
 * the performance figures of docs/benchmarks.md. Prints a readable table per figure and, as the
 * LAST line, one JSON object.
 * Every figure has a baseline measured in the same run (the machine is shared and noisy): read
 * the ratios. Not part of `npm test`. Needs root for the TUN-based figures (2-4).
 */
import { startDynamoDbLocal } from '../../scripts/lib/dynamodb-local';
import { forkChild, type ChildRpc } from './child-rpc';
import { benchAuthFailures, benchControlPlane, type ConcurrencyFigures } from './control-plane';
import { benchDataPath, type DataPathCase, type MarksSetting } from './data-path';
import { benchDensity } from './density';
import { benchDisconnect } from './disconnect';
import { benchRadiusSetups } from './radius-setups';
import { freeRadiusUnavailable } from '../support/radius/freeradius';
import { formatTable, median, round } from './stats';
import { benchTunnelSetup } from './tunnel-setup';
import { xl2tpdInstalled } from './xl2tpd-process';
import { OFFERED_PPS } from './injector';

const roundAll = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, 1)]));

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : undefined;
const profileArg = args.find((a) => a.startsWith('--profile='));
/** `--profile=DIR`: CPU profiles of the broker, agent and simulator children into DIR (read with Chrome DevTools). */
const nodeArgs = profileArg ? ['--cpu-prof', `--cpu-prof-dir=${profileArg.slice('--profile='.length)}`] : undefined;
/** `--heap-snapshot=DIR`: the agent writes a heap snapshot into DIR at the end of the density hold. */
const heapArg = args.find((a) => a.startsWith('--heap-snapshot='));
const heapSnapshotDir = heapArg?.slice('--heap-snapshot='.length);
const wants = (section: string) => !only || only.has(section);
/**
 * `--marks=off,auto`: the data path with one agent per L2TP_MARKS setting, measured in the same
 * rounds: node:dgram (off) against the marked socket (auto). Default: one agent, L2TP_MARKS=auto.
 */
const marksArg = args.find((a) => a.startsWith('--marks='));
const marks = marksArg ? [...new Set(marksArg.slice('--marks='.length).split(','))] : undefined;
if (marks && (marks.length === 0 || marks.some((m) => m !== 'off' && m !== 'auto'))) {
  process.stderr.write(`--marks: expected off, auto or off,auto, got ${marksArg}\n`);
  process.exit(2);
}
/** `--sizes=1400`: the data path at these IP packet sizes only (default 64,512,1400). */
const sizesArg = args.find((a) => a.startsWith('--sizes='));
const sizes = sizesArg ? sizesArg.slice('--sizes='.length).split(',').map(Number) : undefined;
if (sizes && (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 28 || n > 1460))) {
  process.stderr.write(`--sizes: expected IP packet sizes from 28 to 1460, got ${sizesArg}\n`);
  process.exit(2);
}
/**
 * `--inject=gso|packets`: the data path's from-TUN traffic, UDP GSO super-datagrams (the default: a
 * download after a NIC's GRO) or one datagram per packet (injector.ts).
 */
const injectArg = args.find((a) => a.startsWith('--inject='));
const inject = injectArg ? injectArg.slice('--inject='.length) : 'gso';
if (inject !== 'gso' && inject !== 'packets') {
  process.stderr.write(`--inject: expected gso or packets, got ${injectArg}\n`);
  process.exit(2);
}
/** `--before=DIR`: also run the agent of the checkout in DIR (e.g. a worktree of the previous commit) in the data path's rounds. */
const before = args.find((a) => a.startsWith('--before='))?.slice('--before='.length);
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

const dynamo = await startDynamoDbLocal();
process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
let broker: ChildRpc | undefined;
const result: Record<string, unknown> = { quick };
const tables: string[] = [];
try {
  broker = await forkChild(new URL('./broker-child.ts', import.meta.url).pathname, nodeArgs ? { execArgv: nodeArgs } : {});
  let cp: ConcurrencyFigures[] | undefined;
  if (wants('control')) {
    cp = await benchControlPlane(broker, { concurrency: [1, 8, 32], rounds: quick ? 3 : 5, setupsPerRound: quick ? 80 : 400 }, log);
    tables.push(
      formatTable(
        'Control plane: session setups over HTTP (MS-CHAPv2 authenticate + start session) vs the DynamoDB floor (median of rounds)',
        ['concurrency', 'setups/s', 'floor/s', 'ratio', 'p50 ms', 'p99 ms', 'floor p50', 'floor p99', 'p99 x floor', 'failed'],
        cp.map((f) => [String(f.concurrency), f.broker.perSec, f.floor.perSec, f.broker.perSec / f.floor.perSec, f.broker.p50Ms, f.broker.p99Ms, f.floor.p50Ms, f.floor.p99Ms, f.broker.p99Ms / f.floor.p99Ms, f.failures]),
      ),
    );
    const top = cp[cp.length - 1]!;
    result.controlPlane = {
      concurrency: top.concurrency,
      setupsPerSec: round(top.broker.perSec, 1),
      floorPerSec: round(top.floor.perSec, 1),
      ratio: round(top.broker.perSec / top.floor.perSec),
      p99Ms: round(top.broker.p99Ms, 1),
      floorP99Ms: round(top.floor.p99Ms, 1),
      p99Ratio: round(top.broker.p99Ms / top.floor.p99Ms),
      byConcurrency: cp.map((f) => ({
        concurrency: f.concurrency,
        setupsPerSec: round(f.broker.perSec, 1),
        floorPerSec: round(f.floor.perSec, 1),
        ratio: round(f.broker.perSec / f.floor.perSec),
        p50Ms: round(f.broker.p50Ms, 1),
        p99Ms: round(f.broker.p99Ms, 1),
        floorP50Ms: round(f.floor.p50Ms, 1),
        floorP99Ms: round(f.floor.p99Ms, 1),
        failed: f.failures,
      })),
    };
  }
  if (wants('control') || wants('auth')) {
    const af = await benchAuthFailures(broker, { attempts: quick ? 60 : 300 }, log);
    tables.push(
      formatTable(
        'Authentication failures: a known user with a wrong password vs a name that does not exist (c=1, same store work), a success as baseline',
        ['case', 'p50 ms', 'p99 ms', 'p50 x success'],
        (['known', 'unknown', 'success'] as const).map((k) => [k, af[k].p50Ms, af[k].p99Ms, af[k].p50Ms / af.success.p50Ms]),
      ),
    );
    result.authFailures = {
      attempts: af.attempts,
      knownP50Ms: round(af.known.p50Ms, 1),
      unknownP50Ms: round(af.unknown.p50Ms, 1),
      successP50Ms: round(af.success.p50Ms, 1),
      knownP99Ms: round(af.known.p99Ms, 1),
      unknownP99Ms: round(af.unknown.p99Ms, 1),
      unknownToKnownP50: round(af.unknown.p50Ms / af.known.p50Ms),
    };
  }
  if (wants('control') || wants('radius')) {
    const unavailable = freeRadiusUnavailable();
    if (unavailable) {
      log(`RADIUS setups: skipped (${unavailable})`);
    } else {
      const rs = await benchRadiusSetups(broker, { concurrency: 8, rounds: quick ? 3 : 5, setupsPerRound: quick ? 80 : 300 }, log);
      tables.push(
        formatTable(
          'RADIUS tenant beside a local tenant: session setups over HTTP (MS-CHAPv2 authenticate + start), c=8, same rounds (median)',
          ['tenant', 'setups/s', 'p50 ms', 'p99 ms', 'ratio to local', 'failed'],
          [
            ['local', rs.local.perSec, rs.local.p50Ms, rs.local.p99Ms, 1, rs.failures.local],
            ['RADIUS (FreeRADIUS, loopback)', rs.radius.perSec, rs.radius.p50Ms, rs.radius.p99Ms, rs.radius.perSec / rs.local.perSec, rs.failures.radius],
          ],
        ),
      );
      result.radiusSetups = {
        concurrency: rs.concurrency,
        localPerSec: round(rs.local.perSec, 1),
        radiusPerSec: round(rs.radius.perSec, 1),
        ratio: round(rs.radius.perSec / rs.local.perSec),
        localP99Ms: round(rs.local.p99Ms, 1),
        radiusP99Ms: round(rs.radius.p99Ms, 1),
        failed: rs.failures.local + rs.failures.radius,
      };
    }
  }
  if (wants('tunnels')) {
    if (process.getuid?.() !== 0) log('tunnel setup: skipped (needs root for the agent\'s TUN device)');
    else if (!xl2tpdInstalled()) log('tunnel setup: skipped (no /usr/sbin/xl2tpd for the baseline: apt-get install xl2tpd)');
    else {
      const t = await benchTunnelSetup(broker, { tunnels: quick ? 1000 : 3000, rounds: 3, ...(nodeArgs ? { nodeArgs } : {}) }, log);
      tables.push(
        formatTable(
          `Tunnel setup: SCCRQ -> SCCRP -> SCCCN (no sessions, IPsec off), one sequential client, ${t.tunnels} tunnels per round from distinct source addresses, agent vs stock xl2tpd (median of ${t.rounds} rounds)`,
          ['server', 'tunnels/s', 'by round', 'bytes/tunnel', 'CPU ms/tunnel', 'failed', 'unconfirmed'],
          (['agent', 'xl2tpd'] as const).map((k) => [k, t[k].perSec, t[k].perSecByRound.map((r) => r.toFixed(0)).join(' '), t[k].bytesPerTunnel, t[k].cpuMsPerTunnel, String(t[k].failed), String(t[k].unconfirmed)]),
        ),
      );
      result.tunnels = {
        tunnels: t.tunnels,
        rounds: t.rounds,
        agentPerSec: round(t.agent.perSec, 0),
        xl2tpdPerSec: round(t.xl2tpd.perSec, 0),
        ratio: round(t.agent.perSec / t.xl2tpd.perSec),
        agentBytesPerTunnel: Math.round(t.agent.bytesPerTunnel),
        xl2tpdBytesPerTunnel: Math.round(t.xl2tpd.bytesPerTunnel),
        agentCpuMsPerTunnel: round(t.agent.cpuMsPerTunnel, 3),
        xl2tpdCpuMsPerTunnel: round(t.xl2tpd.cpuMsPerTunnel, 3),
        failed: t.agent.failed + t.xl2tpd.failed,
        unconfirmed: t.agent.unconfirmed + t.xl2tpd.unconfirmed,
      };
    }
  }
  if (wants('datapath')) {
    if (process.getuid?.() !== 0) {
      log('data path: skipped (needs root for the TUN devices)');
    } else {
      const all = await benchDataPath(
        broker,
        { rounds: quick ? 3 : 5, seconds: quick ? 1 : 3, sizes: sizes ?? [64, 512, 1400], sessionCounts: [1, quick ? 300 : 1000], inject, ...(marks ? { marks: marks as MarksSetting[] } : {}), ...(nodeArgs ? { nodeArgs } : {}), ...(before ? { before } : {}) },
        log,
      );
      const beforeCases = all.filter((c) => c.agent === 'before');
      const current = all.filter((c) => c.agent === 'current');
      const compared = new Set(current.map((c) => c.marks)).size > 1;
      tables.push(
        formatTable(
          `Data path: agent vs bare relay (same UDP/TUN adapters, no L2TP/PPP) and vs kernel forwarding between two namespaces, median of rounds; from TUN: ${inject === 'gso' ? 'UDP GSO super-datagrams' : 'single packets'} (--inject=${inject})`,
          ['sessions', 'IP bytes', 'direction', ...(compared ? ['L2TP_MARKS'] : []), ...(before ? ['agent'] : []), 'agent pps', 'relay pps', 'ratio', 'agent Mbit/s', 'relay Mbit/s', 'kernel Mbit/s', 'agent / kernel'],
          all.map((c) => [String(c.sessions), String(c.size), c.direction, ...(compared ? [c.marks] : []), ...(before ? [c.agent] : []), c.agentPps, c.relayPps, c.ratio, c.agentMbps, c.relayMbps, c.kernelMbps, c.ratioToKernel]),
        ),
      );
      const summary = (cases: DataPathCase[]) => {
        const worst = (d: string) => Math.min(...cases.filter((c) => c.direction === d).map((c) => c.ratio));
        const worstToKernel = (d: string) => Math.min(...cases.filter((c) => c.direction === d).map((c) => c.ratioToKernel));
        const at1400 = (d: string) => cases.filter((c) => c.direction === d && c.size === 1400).reduce((m, c) => Math.min(m, c.agentMbps), Infinity);
        const kernelAt1400 = (d: string) => cases.filter((c) => c.direction === d && c.size === 1400).reduce((m, c) => Math.min(m, c.kernelMbps), Infinity);
        return {
          mbps1400: round(Math.min(at1400('to-tun'), at1400('from-tun')), 1),
          mbps1400ToTun: round(at1400('to-tun'), 1),
          mbps1400FromTun: round(at1400('from-tun'), 1),
          ratioToTun: round(worst('to-tun')),
          ratioFromTun: round(worst('from-tun')),
          kernelMbps1400: round(Math.min(kernelAt1400('to-tun'), kernelAt1400('from-tun')), 1),
          kernelMbps1400ToTun: round(kernelAt1400('to-tun'), 1),
          kernelMbps1400FromTun: round(kernelAt1400('from-tun'), 1),
          ratioToTunVsKernel: round(worstToKernel('to-tun')),
          ratioFromTunVsKernel: round(worstToKernel('from-tun')),
        };
      };
      // The headline is the agent as deployed (L2TP_MARKS=auto) when it ran.
      const headline = current.some((c) => c.marks === 'auto') ? 'auto' : current[0]!.marks;
      const cases = current.filter((c) => c.marks === headline);
      result.dataPath = {
        inject,
        offeredPps: OFFERED_PPS,
        ...summary(cases),
        cases: all.map((c) => ({ ...(compared ? { marks: c.marks } : {}), ...(before ? { agent: c.agent } : {}), sessions: c.sessions, size: c.size, direction: c.direction, agentPps: Math.round(c.agentPps), relayPps: Math.round(c.relayPps), ratio: round(c.ratio), kernelPps: Math.round(c.kernelPps), ratioToKernel: round(c.ratioToKernel) })),
      };
      if (compared) {
        // The marked socket against node:dgram, case by case: both against the same relay rounds,
        // so the ratio of their ratios to the relay is the ratio of their packet rates.
        const off = current.filter((c) => c.marks === 'off');
        const pairs = cases.map((c) => {
          const o = off.find((x) => x.sessions === c.sessions && x.size === c.size && x.direction === c.direction)!;
          return { c, o, markedVsDgram: c.agentPps / o.agentPps };
        });
        tables.push(
          formatTable(
            'Data path: the marked socket (L2TP_MARKS=auto) vs node:dgram (L2TP_MARKS=off), same rounds',
            ['sessions', 'IP bytes', 'direction', 'off: ratio to relay', 'auto: ratio to relay', 'auto / off'],
            pairs.map(({ c, o, markedVsDgram }) => [String(c.sessions), String(c.size), c.direction, o.ratio, c.ratio, markedVsDgram]),
          ),
        );
        const byDirection = (d: string) => pairs.filter((p) => p.c.direction === d).map((p) => p.markedVsDgram);
        (result.dataPath as Record<string, unknown>).marks = {
          off: summary(off),
          auto: summary(cases),
          autoVsOffWorst: round(Math.min(...pairs.map((p) => p.markedVsDgram))),
          autoVsOffMedianToTun: round(median(byDirection('to-tun'))),
          autoVsOffMedianFromTun: round(median(byDirection('from-tun'))),
        };
      }
    }
  }
  if (wants('datapath') && before && result.dataPath) {
    // This checkout's agent against the `--before` one, case by case, from the same rounds.
    const { cases: all } = result.dataPath as { cases: { agent: string; sessions: number; size: number; direction: string; agentPps: number; ratio: number }[] };
    const pairs = all
      .filter((c) => c.agent === 'current')
      .map((c) => ({ c, b: all.find((x) => x.agent === 'before' && x.sessions === c.sessions && x.size === c.size && x.direction === c.direction)! }))
      .filter((p) => p.b);
    tables.push(
      formatTable(
        `Data path: this checkout's agent vs the one in ${before}, same rounds`,
        ['sessions', 'IP bytes', 'direction', 'before: ratio to relay', 'now: ratio to relay', 'now / before'],
        pairs.map(({ c, b }) => [String(c.sessions), String(c.size), c.direction, b.ratio, c.ratio, c.agentPps / b.agentPps]),
      ),
    );
    const worst = (who: 'c' | 'b', d: string) => round(Math.min(...pairs.filter((p) => p.c.direction === d).map((p) => p[who].ratio)));
    (result.dataPath as Record<string, unknown>).before = {
      checkout: before,
      ratioToTun: worst('b', 'to-tun'),
      ratioFromTun: worst('b', 'from-tun'),
      nowVsBefore: pairs.map(({ c, b }) => ({ sessions: c.sessions, size: c.size, direction: c.direction, ratio: round(c.agentPps / b.agentPps) })),
    };
  }
  if (wants('density')) {
    if (process.getuid?.() !== 0) {
      log('density and storm: skipped (needs root for the TUN device)');
    } else {
      const sessions = Number(args.find((a) => a.startsWith('--sessions='))?.slice(11) ?? (quick ? 2_000 : 10_000));
      const d = await benchDensity(broker, { sessions, holdSeconds: quick ? 10 : 60, keepaliveSeconds: quick ? 5 : 10, ...(nodeArgs ? { nodeArgs } : {}), ...(heapSnapshotDir ? { heapSnapshotDir } : {}) }, log);
      const cpRate = (result.controlPlane as { setupsPerSec?: number } | undefined)?.setupsPerSec;
      // The storm's baseline: how long the DynamoDB floor alone (figure 1, c=32) needs for as many setups.
      const floorRate = (result.controlPlane as { floorPerSec?: number } | undefined)?.floorPerSec;
      const stormFloorSeconds = floorRate ? d.storm.sessions / floorRate : undefined;
      tables.push(
        formatTable('Density, end-to-end setup rate and reconnect storm (one agent)', ['figure', 'value', 'target'], [
          ['sessions', String(d.sessions), quick ? '10,000 (full run)' : '10,000'],
          ['end-to-end setups/s', d.setupsPerSec, cpRate ? `>= ${(0.6 * cpRate).toFixed(1)} (0.6 x HTTP)` : '>= 0.6 x figure 1'],
          ['setup failures', String(d.setupFailed), '0'],
          ['KiB per session', d.bytesPerSession / 1024, '<= 20'],
          [`agent CPU % at idle (${d.holdSeconds} s hold)`, d.idleCpuPercent, '< 10'],
          ['storm seconds', d.storm.seconds, '<= 60'],
          ['storm seconds at the DynamoDB floor rate (figure 1, c=32)', stormFloorSeconds ?? '', ''],
          ['storm failed (not up at the end)', String(d.storm.failed), '0'],
          ['storm redials (attempts after a failure)', String(d.storm.redials), ''],
          ['storm duplicate addresses', String(d.storm.duplicateAddresses), '0'],
        ]),
      );
      result.density = { sessions: d.sessions, bytesPerSession: Math.round(d.bytesPerSession), idleCpuPercent: round(d.idleCpuPercent, 1), holdSeconds: d.holdSeconds, rssBeforeMiB: round(d.rssBefore / 2 ** 20, 1), rssAfterMiB: round(d.rssAfter / 2 ** 20, 1) };
      result.setupRate = { sessionsPerSec: round(d.setupsPerSec, 1), seconds: round(d.setupSeconds, 1), failed: d.setupFailed, cpuSeconds: roundAll(d.setupCpu.cpu), ...(cpRate ? { ratioToHttp: round(d.setupsPerSec / cpRate) } : {}) };
      result.storm = { sessions: d.storm.sessions, seconds: round(d.storm.seconds, 1), failed: d.storm.failed, redials: d.storm.redials, duplicateAddresses: d.storm.duplicateAddresses, failedAttempts: d.storm.reasons, cpuSeconds: roundAll(d.storm.cpu.cpu), ...(stormFloorSeconds ? { floorSeconds: round(stormFloorSeconds, 1) } : {}) };
    }
  }
  if (wants('disconnect')) {
    if (process.getuid?.() !== 0) {
      log('disconnect latency: skipped (needs root for the TUN device)');
    } else {
      const sessions = quick ? 200 : 1000;
      const dc = await benchDisconnect({ sessions, rounds: quick ? 1 : 2, ...(nodeArgs ? { nodeArgs } : {}) }, log);
      const all = dc.rounds.flat();
      const med = (mode: string, key: 'p50Ms' | 'p99Ms' | 'maxMs') => median(all.filter((m) => m.mode === mode).map((m) => m[key]));
      tables.push(
        formatTable(
          `Disconnect latency: DELETE /v1/sessions/{id} to the client's PPP link down, ${sessions} sessions at concurrency 32, heartbeat ${dc.heartbeatSeconds} s (median of rounds)`,
          ['mode', 'p50 ms', 'p99 ms', 'max ms', 'not down', 'target'],
          (['nudge', 'heartbeat'] as const).map((mode) => [
            mode === 'nudge' ? 'command nudges' : 'heartbeat only (baseline)',
            med(mode, 'p50Ms'),
            med(mode, 'p99Ms'),
            med(mode, 'maxMs'),
            String(all.filter((m) => m.mode === mode).reduce((n, m) => n + m.notDown, 0)),
            mode === 'nudge' ? 'p99 < 5000' : '',
          ]),
        ),
      );
      result.disconnect = {
        sessions,
        heartbeatSeconds: dc.heartbeatSeconds,
        nudgeP50Ms: round(med('nudge', 'p50Ms'), 0),
        nudgeP99Ms: round(med('nudge', 'p99Ms'), 0),
        heartbeatP50Ms: round(med('heartbeat', 'p50Ms'), 0),
        heartbeatP99Ms: round(med('heartbeat', 'p99Ms'), 0),
        rounds: dc.rounds.map((r) => r.map((m) => ({ ...m, deleteSeconds: round(m.deleteSeconds, 1) }))),
      };
    }
  }
} finally {
  await broker?.close();
  await dynamo.stop();
}
console.log(tables.join('\n\n'));
console.log(JSON.stringify(result));
