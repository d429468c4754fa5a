/** `pools list|create|update|delete --tenant <id>`: a tenant's address pools. */
import { Command } from 'commander';
import { seg } from '../api-client';
import { note, printList, printRecord, type CliContext } from '../context';
import { UsageError } from '../errors';
import { excludeArg, listArg } from '../parse-args';
import type { Column } from '../table';

interface PoolView {
  poolId: string;
  cidr: string;
  gateway: string;
  dns: string[];
  exclude: { first: string; last: string }[];
  allowPublic?: boolean;
  createdAt: string;
}

const POOL_COLUMNS: Column<PoolView>[] = [
  { header: 'POOL', value: (p) => p.poolId },
  { header: 'CIDR', value: (p) => p.cidr },
  { header: 'GATEWAY', value: (p) => p.gateway },
  { header: 'DNS', value: (p) => p.dns },
  { header: 'EXCLUDED', value: (p) => p.exclude.map((r) => (r.first === r.last ? r.first : `${r.first}-${r.last}`)) },
  { header: 'CREATED', value: (p) => p.createdAt },
];

interface PoolOptions {
  tenant: string;
  cidr?: string;
  gateway?: string;
  dns?: string[];
  exclude?: { first: string; last: string }[];
  allowPublic?: boolean;
}

const TENANT_OPTION = ['-t, --tenant <tenantId>', 'the tenant'] as const;

export function poolsCommand(ctx: CliContext): Command {
  const pools = new Command('pools').description('address pools: the blocks a tenant\'s sessions get addresses from');
  const base = (t: string) => `/v1/tenants/${seg(t)}/pools`;

  pools
    .command('list')
    .description('list a tenant\'s pools')
    .requiredOption(...TENANT_OPTION)
    .action(async (o: PoolOptions, cmd: Command) => {
      printList(ctx, cmd, await ctx.client().listAll<PoolView>(base(o.tenant)), POOL_COLUMNS);
    });

  pools
    .command('create')
    .description('create a pool (private or shared space; public space needs --allow-public and a fleet token)')
    .argument('<poolId>')
    .requiredOption(...TENANT_OPTION)
    .requiredOption('--cidr <cidr>', 'the block, e.g. 10.8.0.0/24')
    .requiredOption('--dns <list>', 'DNS servers handed to clients, comma-separated', listArg)
    .option('--gateway <ip>', 'the broker side\'s address (default: the first host)')
    .option('--exclude <ranges>', 'addresses never leased: first-last[,first-last]', excludeArg)
    .option('--allow-public', 'allow a public block (fleet token only)')
    .action(async (poolId: string, o: PoolOptions, cmd: Command) => {
      const body = {
        poolId,
        cidr: o.cidr,
        dns: o.dns,
        ...(o.gateway !== undefined ? { gateway: o.gateway } : {}),
        ...(o.exclude !== undefined ? { exclude: o.exclude } : {}),
        ...(o.allowPublic ? { allowPublic: true } : {}),
      };
      printRecord(ctx, cmd, (await ctx.client().request('POST', base(o.tenant), { body })).body);
    });

  pools
    .command('update')
    .description('change a pool: DNS and exclusions apply from the next session; a new block must keep every leased address')
    .argument('<poolId>')
    .requiredOption(...TENANT_OPTION)
    .option('--cidr <cidr>', 'a new block')
    .option('--gateway <ip>', 'a new gateway')
    .option('--dns <list>', 'DNS servers, comma-separated', listArg)
    .option('--exclude <ranges>', 'addresses never leased: first-last[,first-last]', excludeArg)
    .action(async (poolId: string, o: PoolOptions, cmd: Command) => {
      const body = {
        ...(o.cidr !== undefined ? { cidr: o.cidr } : {}),
        ...(o.gateway !== undefined ? { gateway: o.gateway } : {}),
        ...(o.dns !== undefined ? { dns: o.dns } : {}),
        ...(o.exclude !== undefined ? { exclude: o.exclude } : {}),
      };
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change', 'give at least one of --cidr, --gateway, --dns, --exclude');
      printRecord(ctx, cmd, (await ctx.client().request('PATCH', `${base(o.tenant)}/${seg(poolId)}`, { body })).body);
    });

  pools
    .command('delete')
    .description('delete a pool (refused while an address is leased)')
    .argument('<poolId>')
    .requiredOption(...TENANT_OPTION)
    .action(async (poolId: string, o: PoolOptions, cmd: Command) => {
      await ctx.client().request('DELETE', `${base(o.tenant)}/${seg(poolId)}`);
      if (cmd.optsWithGlobals().json) ctx.io.stdout.write(`${JSON.stringify({ tenantId: o.tenant, poolId, deleted: true })}\n`);
      else note(ctx, `pool ${poolId} of ${o.tenant} deleted`);
    });

  return pools;
}
