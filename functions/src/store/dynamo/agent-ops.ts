/** Agents (`AGENT#<id>` / `META`, listed through ByKind) and their queued commands (`CMD#<id>`). */
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import { NotFoundError, StoreUnavailableError } from '../../domain/store-errors';
import type { Agent, AgentCommand } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { createItem, kindKeys, listByKind, setExpression, updateItem } from './item-writes';
import { keys } from './keys';
import type { Table } from './table';

export type AgentOps = Pick<
  Store,
  'createAgent' | 'getAgent' | 'listAgents' | 'updateAgent' | 'transitionAgent' | 'enqueueAgentCommand' | 'listAgentCommands' | 'ackAgentCommands'
>;

/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;

export function agentOps(t: Table): AgentOps {
  const named = (agentId: string) => ({ entity: 'agent', id: agentId });
  const getAgent = (agentId: string) => t.get<Agent>(keys.agent(agentId));
  return {
    async createAgent(agent) {
      const key = keys.agent(agent.agentId);
      await createItem(t, toItem(key, 'agent', agent, kindKeys('agent', agent.agentId)), named(agent.agentId));
    },

    getAgent,

    listAgents: (page) => listByKind<Agent>(t, 'agent', page),

    async updateAgent(agentId, changes) {
      const { set, names, values } = setExpression({ ...changes });
      if (!set) {
        const agent = await getAgent(agentId);
        if (!agent) throw new NotFoundError('agent', agentId);
        return agent;
      }
      return updateItem<Agent>(t, keys.agent(agentId), named(agentId), { update: `SET ${set}`, names, values });
    },

    async transitionAgent(agentId, from, to, at) {
      if (from.length === 0) return undefined;
      const values: Record<string, unknown> = { ':to': to, ':at': at };
      from.forEach((state, i) => (values[`:f${i}`] = state));
      try {
        return await updateItem<Agent>(t, keys.agent(agentId), named(agentId), {
          update: 'SET #state = :to, stateChangedAt = :at',
          condition: `#state IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
          names: { '#state': 'state' },
          values,
        });
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    },

    async enqueueAgentCommand(agentId, command) {
      const key = keys.agentCommand(agentId, command.commandId);
      await createItem(t, toItem(key, 'agent-command', command), { entity: 'agent command', id: command.commandId }, { key: keys.agent(agentId), ...named(agentId) });
    },

    /** Oldest first (delivery order). */
    async listAgentCommands(agentId) {
      const commands = await t.queryAll<AgentCommand>({
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: toAttributes({ ':pk': keys.agent(agentId).PK, ':prefix': keys.agentCommandPrefix }),
        ConsistentRead: true,
      });
      return commands.sort((a, b) => a.createdAt - b.createdAt || a.commandId.localeCompare(b.commandId));
    },

    /** Deletes the acknowledged commands; unknown ids are ignored (acks may be repeated). */
    async ackAgentCommands(agentId, commandIds) {
      const unique = [...new Set(commandIds)];
      for (let i = 0; i < unique.length; i += BATCH) {
        let requests: WriteRequest[] = unique.slice(i, i + BATCH).map((id) => ({ DeleteRequest: { Key: toAttributes(keys.agentCommand(agentId, id)) } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt >= 8) throw new StoreUnavailableError('BatchWriteItem kept leaving unprocessed items');
          if (attempt > 0) await t.sleep(20 * 2 ** attempt);
          const out = await t.send('BatchWriteItem', (c) => c.send(new BatchWriteItemCommand({ RequestItems: { [t.tableName]: requests } })));
          requests = out.UnprocessedItems?.[t.tableName] ?? [];
        }
      }
    },
  };
}
