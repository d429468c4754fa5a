/** `agents list|drain [--wait]|revoke` (fleet token). */
import { Command } from 'commander';
import { seg } from '../api-client';
import { jsonMode, note, printList, printRecord, type CliContext } from '../context';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { intArg, secondsArg } from '../parse-args';
import type { Column } from '../table';

interface AgentView {
  agentId: string;
  name: string;
  region: string;
  state: string;
  revoked: boolean;
  publicAddress?: string;
  capacity: number;
  activeSessions: number;
  drainDeadline?: string;
  lastHeartbeatAt?: string;
  version?: string;
}

const AGENT_COLUMNS: Column<AgentView>[] = [
  { header: 'AGENT', value: (a) => a.agentId },
  { header: 'NAME', value: (a) => a.name },
  { header: 'REGION', value: (a) => a.region },
  { header: 'STATE', value: (a) => (a.revoked ? 'revoked' : a.state) },
  { header: 'ADDRESS', value: (a) => a.publicAddress },
  { header: 'SESSIONS', value: (a) => `${a.activeSessions}/${a.capacity}` },
  { header: 'DRAIN DEADLINE', value: (a) => a.drainDeadline },
  { header: 'LAST HEARTBEAT', value: (a) => a.lastHeartbeatAt },
  { header: 'VERSION', value: (a) => a.version },
];

/** How long `drain --wait` waits without --timeout: past the deadline, by which the agent has ended every session. */
export const WAIT_PAST_DEADLINE_MS = 120_000;

export function agentsCommand(ctx: CliContext): Command {
  const agents = new Command('agents').description('edge agents: the VMs that terminate tunnels (fleet token)');

  agents
    .command('list')
    .description('list agents with their state and load')
    .action(async (_o, cmd: Command) => {
      printList(ctx, cmd, await ctx.client().listAll<AgentView>('/v1/agents'), AGENT_COLUMNS);
    });

  agents
    .command('drain')
    .description('drain an agent: no new sessions; those it holds end at the deadline; --wait shows them leave')
    .argument('<agentId>')
    .option('--deadline <seconds>', 'seconds until the agent ends what it still holds (broker default 3600)', intArg)
    .option('--wait', 'wait until the agent holds no active session, printing progress on stderr')
    .option('--interval <seconds>', 'seconds between progress checks with --wait', secondsArg, 2)
    .option('--timeout <seconds>', 'give up waiting after this long (exit 5; default: 2 minutes past the deadline)', secondsArg)
    .action(async (agentId: string, o: { deadline?: number; wait?: boolean; interval: number; timeout?: number }, cmd: Command) => {
      const client = ctx.client();
      const { body: agent } = await client.request<AgentView>('POST', `/v1/agents/${seg(agentId)}/drain`, {
        body: o.deadline !== undefined ? { deadlineSeconds: o.deadline } : {},
      });
      note(ctx, `agent ${agentId} is draining; sessions it still holds end at ${agent.drainDeadline ?? 'its deadline'}`);
      if (!o.wait) return printRecord(ctx, cmd, agent);
      const started = ctx.io.now();
      const giveUpAt = o.timeout !== undefined ? started + o.timeout * 1000 : Date.parse(agent.drainDeadline ?? '') + WAIT_PAST_DEADLINE_MS;
      for (;;) {
        const active = await client.listAll<{ sessionId: string }>('/v1/sessions', { agentId, state: 'active' });
        const elapsed = Math.round((ctx.io.now() - started) / 1000);
        note(ctx, `[${elapsed}s] ${agentId}: ${active.length} active session(s) left`);
        if (active.length === 0) break;
        if (ctx.io.now() >= giveUpAt) {
          throw new CliError(EXIT.timeout, `${agentId} still holds ${active.length} active session(s)`, 'wait longer (--timeout), or end them: tunnel-broker sessions list --agent ' + agentId);
        }
        await ctx.io.sleep(o.interval * 1000);
      }
      note(ctx, `agent ${agentId} is drained`);
      const fresh = (await client.listAll<AgentView>('/v1/agents')).find((a) => a.agentId === agentId);
      printRecord(ctx, cmd, fresh ?? agent);
    });

  agents
    .command('revoke')
    .description('revoke an agent: its credential is refused from now on and its sessions are stopped')
    .argument('<agentId>')
    .action(async (agentId: string, _o, cmd: Command) => {
      const { body } = await ctx.client().request('DELETE', `/v1/agents/${seg(agentId)}`);
      if (!jsonMode(cmd)) note(ctx, `agent ${agentId} revoked`);
      printRecord(ctx, cmd, body);
    });

  return agents;
}
