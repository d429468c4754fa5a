/** `psk show|set`: the fleet's IPsec pre-shared key (fleet token). The PSK is read from stdin and never printed. */
import { Command } from 'commander';
import { jsonMode, note, printRecord, type CliContext } from '../context';
import { readSecret } from '../secret-input';

export function pskCommand(ctx: CliContext): Command {
  const psk = new Command('psk').description('the fleet\'s IPsec pre-shared key (the broker never returns it)');

  psk
    .command('show')
    .description('show whether a PSK is set, its revision and the legacy-proposal setting (never the key)')
    .action(async (_o, cmd: Command) => {
      printRecord(ctx, cmd, (await ctx.client().request('GET', '/v1/ipsec')).body);
    });

  psk
    .command('set')
    .description('set the PSK, read from standard input (a prompt on a terminal); agents reload it at the new revision')
    .option('--allow-legacy-proposals', 'also accept the legacy IKEv1 proposals old clients need (SHA-1, MODP1024, 3DES: docs/ipsec.md)')
    .option('--no-allow-legacy-proposals', 'accept modern proposals only')
    .action(async (o: { allowLegacyProposals?: boolean }, cmd: Command) => {
      const secret = await readSecret(ctx.io.stdin, ctx.io.stderr, 'IPsec PSK: ', 'PSK');
      const body = { psk: secret, ...(o.allowLegacyProposals !== undefined ? { allowLegacyProposals: o.allowLegacyProposals } : {}) };
      const { body: status } = await ctx.client().request('PUT', '/v1/ipsec', { body });
      if (!jsonMode(cmd)) note(ctx, 'PSK stored; agents pick it up at their next heartbeat');
      printRecord(ctx, cmd, status);
    });

  return psk;
}
