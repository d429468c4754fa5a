/**
 * A `Broker` that times authentications and counts heartbeat outcomes for the metrics, then
 * forwards every call unchanged to the real one.
 */
import type { Broker } from '../broker/broker-client';
import { BrokerCallAbandonedError, BrokerUnavailableError } from '../broker/http-transport';
import type { AgentMetrics } from './agent-metrics';

/** Wraps `broker`; `now` is in milliseconds (performance.now by default). */
export function instrumentBroker(broker: Broker, metrics: Pick<AgentMetrics, 'observeAuth' | 'observeHeartbeat'>, now: () => number = () => performance.now()): Broker {
  return {
    register: (request) => broker.register(request),
    async heartbeat(request) {
      try {
        const reply = await broker.heartbeat(request);
        metrics.observeHeartbeat(true);
        return reply;
      } catch (error) {
        metrics.observeHeartbeat(false);
        throw error;
      }
    },
    settings: () => broker.settings(),
    async authenticate(request, call) {
      const started = now();
      try {
        const verdict = await broker.authenticate(request, call);
        metrics.observeAuth(verdict.ok ? 'accepted' : 'refused', (now() - started) / 1000);
        return verdict;
      } catch (error) {
        // Abandoned calls never reached the broker (the session ended while queued): no latency to report.
        if (!(error instanceof BrokerCallAbandonedError)) metrics.observeAuth(error instanceof BrokerUnavailableError ? 'unavailable' : 'error', (now() - started) / 1000);
        throw error;
      }
    },
    startSession: (request, call) => broker.startSession(request, call),
    reportInterim: (sessionId, counters) => broker.reportInterim(sessionId, counters),
    reportStop: (sessionId, reason, counters, owner) => broker.reportStop(sessionId, reason, counters, owner),
    flushOutbox: () => broker.flushOutbox(),
  };
}
