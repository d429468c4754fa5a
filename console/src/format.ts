/** Pure formatting and classification for the console's tables (no DOM: unit-tested in Node). */

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 93_000 -> "1 min 33 s"; rounded down to whole seconds. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** How long ago an ISO time was, e.g. "12 s ago"; "-" when absent or unreadable. */
export function formatAge(isoTime: string | undefined, nowMs: number): string {
  if (!isoTime) return '-';
  const at = Date.parse(isoTime);
  if (Number.isNaN(at)) return '-';
  const ms = nowMs - at;
  return ms < 0 ? 'just now' : `${formatDuration(ms)} ago`;
}

/** "2026-12-07 13:05:09 UTC": one unambiguous zone for every operator. */
export function formatTime(isoTime: string | undefined): string {
  if (!isoTime) return '-';
  const at = new Date(isoTime);
  if (Number.isNaN(at.getTime())) return '-';
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export interface AgentView {
  readonly state: 'active' | 'draining' | 'dead' | string;
  readonly revoked: boolean;
  readonly capacity: number;
  readonly activeSessions: number;
  readonly lastHeartbeatAt?: string;
}

/** Sessions over capacity, as a whole percentage clamped to 0..100 (0 for an agent without capacity). */
export function agentLoadPercent(agent: Pick<AgentView, 'capacity' | 'activeSessions'>): number {
  if (!(agent.capacity > 0)) return 0;
  return Math.min(100, Math.max(0, Math.round((agent.activeSessions / agent.capacity) * 100)));
}

export type AgentHealth = 'healthy' | 'late' | 'never seen' | 'draining' | 'dead' | 'revoked';

/**
 * What the fleet view shows as health. The broker's state wins (revoked, dead: the reaper's
 * verdict; draining); an active agent is "late" when its last heartbeat is older than
 * `lateAfterMs` (default 2 min), which the reaper has not acted on yet.
 */
export function agentHealth(agent: AgentView, nowMs: number, lateAfterMs = 120_000): AgentHealth {
  if (agent.revoked) return 'revoked';
  if (agent.state === 'dead') return 'dead';
  if (agent.state === 'draining') return 'draining';
  if (!agent.lastHeartbeatAt) return 'never seen';
  const at = Date.parse(agent.lastHeartbeatAt);
  if (Number.isNaN(at) || nowMs - at > lateAfterMs) return 'late';
  return 'healthy';
}

export interface SessionView {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly username: string;
  readonly agentId: string;
  readonly assignedIp: string;
  readonly peerAddress?: string;
  readonly state: string;
  readonly endReason?: string;
  readonly disconnectRequestedAt?: string;
}

/**
 * The sessions page's search box: every whitespace-separated word must occur (case-insensitive)
 * in one of the session's user, tenant, address, peer, agent or session id.
 */
export function sessionMatches(session: SessionView, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = [session.username, `${session.username}@${session.tenantId}`, session.assignedIp, session.peerAddress ?? '', session.agentId, session.sessionId]
    .join(' ')
    .toLowerCase();
  return words.every((w) => haystack.includes(w));
}

/** The state column: "active", "disconnecting" (requested, not yet confirmed), or "ended (reason)". */
export function sessionStateText(session: Pick<SessionView, 'state' | 'endReason' | 'disconnectRequestedAt'>): string {
  if (session.state === 'active') return session.disconnectRequestedAt ? 'disconnecting' : 'active';
  return session.endReason ? `ended (${session.endReason})` : 'ended';
}

/** The default usage range: the last `days` UTC days including today, as [from, to) dates (YYYY-MM-DD). */
export function defaultUsageRange(nowMs: number, days = 7): { from: string; to: string } {
  const today = Date.UTC(new Date(nowMs).getUTCFullYear(), new Date(nowMs).getUTCMonth(), new Date(nowMs).getUTCDate());
  const day = 86_400_000;
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: iso(today - (days - 1) * day), to: iso(today + day) };
}
