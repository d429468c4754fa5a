/**
 * Fuzz CLI.
 *
 *   tsx test/fuzz/cli.ts capture                      regenerate test/fuzz/corpus/session.json
 *   tsx test/fuzz/cli.ts run --packets 1000000 --seed 1
 *                                                     long run; prints progress and a JSON report
 *
 * Exit status 1 when the run saw a handler failure, lost probes beyond 1 %, or no fresh session after it.
 */
import { parseArgs } from 'node:util';
import { captureCorpus } from './capture';
import { saveCorpus } from './corpus';
import { runFuzz } from './run-fuzz';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    packets: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    victims: { type: 'string', default: '2' },
    'senders-per-address': { type: 'string', default: '2' },
  },
});

const command = positionals[0] ?? 'run';
if (command === 'capture') {
  const packets = await captureCorpus();
  saveCorpus(packets, 'Captured by `tsx test/fuzz/cli.ts capture`: test LAC <-> live agent over loopback UDP (see test/fuzz/capture.ts).');
  console.log(JSON.stringify({ captured: packets.length }));
} else if (command === 'run') {
  const report = await runFuzz({
    packets: Number(values.packets),
    seed: Number(values.seed),
    victims: Number(values.victims),
    sendersPerAddress: Number(values['senders-per-address']),
    onProgress: (p) => console.error(JSON.stringify({ progress: p })),
  });
  console.log(JSON.stringify(report, null, 1));
  const lost = report.probes.reduce((n, p) => n + p.sent - p.answered, 0);
  const sent = report.probes.reduce((n, p) => n + p.sent, 0);
  process.exitCode = report.handlerFailures === 0 && lost <= sent * 0.01 && report.freshSessionAfterRun ? 0 : 1;
} else {
  console.error(`unknown command ${command} (capture | run)`);
  process.exitCode = 2;
}
