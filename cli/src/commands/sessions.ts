/** `sessions list [filters] [--watch]|show|disconnect`. */
import { Command, Option } from 'commander';
import { SESSION_STATES } from '../../../contract/src/values';
import { seg, type Query } from '../api-client';
import { jsonMode, note, printList, printRecord, type CliContext } from '../context';
import { secondsArg } from '../parse-args';
import { renderTable, type Column } from '../table';

interface SessionView {
  sessionId: string;
  tenantId: string;
  username: string;
  agentId: string;
  state: string;
  assignedIp: string;
  peerAddress?: string;
  startedAt: string;
  stoppedAt?: string;
  endReason?: string;
  disconnectRequestedAt?: string;
  counters: { bytesIn: number; bytesOut: number };
}

export const SESSION_COLUMNS: Column<SessionView>[] = [
  { header: 'SESSION', value: (s) => s.sessionId },
  { header: 'TENANT', value: (s) => s.tenantId },
  { header: 'USER', value: (s) => s.username },
  { header: 'AGENT', value: (s) => s.agentId },
  { header: 'STATE', value: (s) => (s.state === 'active' && s.disconnectRequestedAt ? 'disconnecting' : s.state) },
  { header: 'ADDRESS', value: (s) => s.assignedIp },
  { header: 'PEER', value: (s) => s.peerAddress },
  { header: 'STARTED', value: (s) => s.startedAt },
  { header: 'IN', value: (s) => s.counters.bytesIn },
  { header: 'OUT', value: (s) => s.counters.bytesOut },
  { header: 'END', value: (s) => s.endReason },
];

interface ListOptions {
  tenant?: string;
  user?: string;
  agent?: string;
  state?: string;
  since?: string;
  until?: string;
  watch?: boolean;
  interval: number;
}

/** The query of a session listing from its filters (the broker checks each). */
export function sessionsQuery(o: ListOptions): Query {
  return { tenantId: o.tenant, username: o.user, agentId: o.agent, state: o.state, since: o.since, until: o.until };
}

export function sessionsCommand(ctx: CliContext): Command {
  const sessions = new Command('sessions').description('VPN sessions: list, watch, inspect and disconnect');

  sessions
    .command('list')
    .description('list sessions (filters combine); --watch redraws every --interval seconds until Ctrl-C')
    .option('-t, --tenant <tenantId>', 'only this tenant\'s')
    .option('-u, --user <username>', 'only this user\'s (needs --tenant)')
    .option('-a, --agent <agentId>', 'only those on this agent')
    .addOption(new Option('-s, --state <state>', 'only active or stopped ones').choices(SESSION_STATES))
    .option('--since <time>', 'started at or after (ISO-8601 or epoch ms)')
    .option('--until <time>', 'started before (ISO-8601 or epoch ms)')
    .option('-w, --watch', 'refresh until Ctrl-C (with --json: one JSON line per refresh)')
    .option('--interval <seconds>', 'seconds between refreshes with --watch', secondsArg, 2)
    .action(async (o: ListOptions, cmd: Command) => {
      const client = ctx.client();
      const fetchAll = () => client.listAll<SessionView>('/v1/sessions', sessionsQuery(o));
      if (!o.watch) return printList(ctx, cmd, await fetchAll(), SESSION_COLUMNS);
      let stop = false;
      void ctx.io.interrupted().then(() => void (stop = true));
      const clear = ctx.io.stdout.isTTY && !jsonMode(cmd);
      while (!stop) {
        const rows = await fetchAll();
        const at = new Date(ctx.io.now()).toISOString();
        if (jsonMode(cmd)) ctx.io.stdout.write(`${JSON.stringify({ at, items: rows })}\n`);
        else ctx.io.stdout.write(`${clear ? '\x1b[2J\x1b[H' : '\n'}${at}  ${rows.length} session(s)  (every ${o.interval}s, Ctrl-C to stop)\n${renderTable(rows, SESSION_COLUMNS)}`);
        await Promise.race([ctx.io.sleep(o.interval * 1000), ctx.io.interrupted()]);
      }
    });

  sessions
    .command('show')
    .description('show one session with its counters and end reason')
    .argument('<sessionId>')
    .action(async (sessionId: string, _o, cmd: Command) => {
      printRecord(ctx, cmd, (await ctx.client().request('GET', `/v1/sessions/${seg(sessionId)}`)).body);
    });

  sessions
    .command('disconnect')
    .description('end a session: its agent is told at once and tears it down (reason admin-disconnect)')
    .argument('<sessionId>')
    .action(async (sessionId: string, _o, cmd: Command) => {
      const { body } = await ctx.client().request('DELETE', `/v1/sessions/${seg(sessionId)}`);
      if (!jsonMode(cmd)) note(ctx, `disconnect of ${sessionId} requested; \`sessions show ${sessionId}\` shows when the agent confirms`);
      printRecord(ctx, cmd, body);
    });

  return sessions;
}
