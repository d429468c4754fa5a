/**
 * The agent's IPsec controller: keeps strongSwan's charon configured for L2TP/IPsec over VICI and
 * tracks which L2TP peers arrived through an established SA.
 *
 * Desired-state reconciliation: `apply()` records the broker's settings and pushes them; after a
 * dropped socket (charon restarted, VICI timeout) the controller reconnects with backoff,
 * re-registers for SA events, re-reads `list-sas` and pushes the settings again (a restarted charon
 * has forgotten them). Until that resync is done `peerProtection()` answers 'unknown'.
 *
 * Marks (docs/ipsec.md, "Several clients behind one NAT"): with an L2TP socket that reads and sets
 * packet marks (`socketMarks`), every CHILD_SA gets its own mark and the kernel puts it on what the
 * SA decrypts, so a datagram's mark names its SA exactly, even among clients sharing one address
 * and port. Without it, the controller falls back to strongSwan's connmark plugin, or to no marks.
 */
import {
  connectVici,
  expectSuccess,
  listSas,
  terminateIke,
  ViciClosedError,
  ViciCommandError,
  ViciConnectError,
  ViciTimeoutError,
  type ViciMessage,
  type ViciSession,
} from '../vici';
import { l2tpConnMessage, l2tpPskMessage, L2TP_CONN_NAME, unloadL2tpConnMessage, unloadPskMessage } from './conn-config';
import { backgroundTimers, type TimerHandle, type TimerService } from '../clock';
import { IpsecClosedError, IpsecConfigError, IpsecError, IpsecUnavailableError } from './errors';
import { EMPTY_SA_TABLE, matchMark, matchPeer, stepSaTable, type ChildSa, type SaChange, type SaFilter, type SaTable, type SaTableEvent } from './sa-table';

/** The broker's settings as `GET /v1/agent/settings` returns them (extra fields are ignored). */
export interface IpsecSettingsInput {
  readonly revision: number;
  readonly ipsec: { readonly psk: string; readonly allowLegacyProposals: boolean } | null;
}

export type PeerProtection = 'protected' | 'unprotected' | 'unknown';

/** A CHILD_SA of the L2TP connection came up or went down (also reported after a resync). */
export type SaEvent = SaChange;

export type TerminateResult =
  | { readonly outcome: 'terminated'; readonly ikeIds: readonly string[] }
  | { readonly outcome: 'no-sa' }
  /** Several IKE_SAs share the address and none pins the port: terminating could hit other clients. */
  | { readonly outcome: 'ambiguous'; readonly ikeIds: readonly string[] };

/**
 * How CHILD_SAs are marked: `socket` (each SA's mark on what it decrypts, read and set by the L2TP
 * socket: several clients on one address and port work), `connmark` (strongSwan's connmark plugin
 * restores marks per conntrack flow: clients need distinct L2TP ports), `none`.
 */
export type MarkMode = 'socket' | 'connmark' | 'none';

export interface IpsecStatus {
  readonly connected: boolean;
  readonly synced: boolean;
  /** Whether the loaded child uses %unique marks (`marks` is not 'none'). */
  readonly uniqueMarks: boolean | undefined;
  readonly marks?: MarkMode;
  readonly appliedRevision: number | undefined;
  readonly childSas: number;
}

export interface IpsecController {
  /** Pushes the settings (idempotent for unchanged settings). Rejects with IpsecUnavailableError if charon cannot be reached; retried in the background. */
  apply(settings: IpsecSettingsInput): Promise<void>;
  /** Subscribes to CHILD_SA up/down; returns the unsubscribe function. */
  onSaEvent(listener: (event: SaEvent) => void): () => void;
  /**
   * Did L2TP from this address/port, with this packet mark (0: none), as the UDP socket saw it,
   * arrive through an installed CHILD_SA? With a mark, only the SA with that mark counts.
   */
  peerProtection(address: string, port: number, mark?: number): PeerProtection;
  /** Like peerProtection, but waits up to `timeoutMs` for a matching SA to come up (the SA event can trail the first L2TP packet). */
  waitForProtection(address: string, port: number, timeoutMs: number, mark?: number): Promise<PeerProtection>;
  /** Terminates the IKE_SA(s) carrying this peer (operator disconnect): with a mark, exactly that SA's IKE_SA. */
  terminateForPeer(address: string, port: number, mark?: number): Promise<TerminateResult>;
  /** The CHILD_SA a datagram from this peer with this mark came through (for logs and the session's record). */
  saForPeer?(address: string, port: number, mark?: number): ChildSa | undefined;
  status(): IpsecStatus;
  /** Closes the VICI connection; the loaded configuration stays in charon. */
  close(): Promise<void>;
}

/** A VICI connection plus the promise that settles when it ends (the real ViciClient has both). */
export type ViciConnection = ViciSession & { readonly closed: Promise<Error | undefined> };

/** Minimal logger (pino's Logger satisfies it). */
export interface IpsecLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface IpsecControllerOptions {
  readonly viciSocket: string;
  readonly logger?: IpsecLogger;
  /** Opens a VICI connection; default `connectVici`. */
  readonly connect?: (socketPath: string) => Promise<ViciConnection>;
  /**
   * `auto` (default): %unique marks when the L2TP socket reads marks (`socketMarks`) or else when
   * charon reports the connmark plugin loaded; never with the forecast plugin loaded.
   */
  readonly uniqueMarks?: 'auto' | 'on' | 'off';
  /**
   * The L2TP socket reads each datagram's mark (SO_RCVMARK) and sets marks on what it sends:
   * charon then marks decrypted packets with the SA's mark (`set_mark_in = %same`). @default false
   */
  readonly socketMarks?: boolean;
  readonly localId?: string;
  readonly forceEncap?: boolean;
  /** `local_addrs` of the connection (cloud 1:1 NAT mode: the public address); default `%any`. */
  readonly localAddrs?: readonly string[];
  /** Reconnect backoff; default 500 ms doubling to 30 s. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  /** The agent's timers (reconnects, protection waits, VICI deadlines). @default backgroundTimers() */
  readonly timers?: TimerService;
}

const SA_EVENTS = ['ike-updown', 'ike-rekey', 'child-updown', 'child-rekey'] as const;
const noopLogger: IpsecLogger = { info: () => {}, warn: () => {}, debug: () => {} };

/** Creates the controller and starts connecting in the background. */
export function createIpsecController(options: IpsecControllerOptions): IpsecController {
  return new Controller(options);
}

interface Link {
  readonly conn: ViciConnection;
  syncing: boolean;
  readonly buffered: SaTableEvent[];
  marks: MarkMode;
  appliedKey?: string;
  appliedRevision?: number;
}

class Controller implements IpsecController {
  private readonly log: IpsecLogger;
  private readonly connect: (socketPath: string) => Promise<ViciConnection>;
  private readonly filter: SaFilter = { connections: new Set([L2TP_CONN_NAME]) };
  private readonly listeners = new Set<(event: SaEvent) => void>();
  private link: Link | undefined;
  private synced = false;
  private connecting: Promise<Link> | undefined;
  private table: SaTable = EMPTY_SA_TABLE;
  private desired: IpsecSettingsInput | undefined;
  private pushChain: Promise<unknown> = Promise.resolve();
  private retryTimer: TimerHandle | undefined;
  private readonly timers: TimerService;
  private backoffMs: number;
  private closed = false;

  constructor(private readonly options: IpsecControllerOptions) {
    this.log = options.logger ?? noopLogger;
    // Without the agent's timers, a controller nobody closes must not keep a process alive.
    this.timers = options.timers ?? backgroundTimers();
    this.connect = options.connect ?? ((path) => connectVici(path, { logger: this.log, timers: this.timers }));
    this.backoffMs = options.retry?.initialMs ?? 500;
    this.reconnectSoon(0);
  }

  async apply(settings: IpsecSettingsInput): Promise<void> {
    if (this.closed) throw new IpsecClosedError('IPsec controller is closed');
    this.desired = settings;
    const link = await this.ensureLink();
    await this.serializedPush(link);
  }

  onSaEvent(listener: (event: SaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  peerProtection(address: string, port: number, mark = 0): PeerProtection {
    if (!this.synced) return 'unknown';
    return this.match(address, port, mark) ? 'protected' : 'unprotected';
  }

  saForPeer(address: string, port: number, mark = 0): ChildSa | undefined {
    const match = this.match(address, port, mark);
    return match && match.sas.length === 1 ? match.sas[0] : undefined;
  }

  /**
   * A marked datagram came through the SA with that mark and no other. An unmarked one, on a
   * socket that reads marks, came through no marked SA: only unmarked SAs (loaded before marks were
   * on) can have carried it, matched by address and port as without marks.
   */
  private match(address: string, port: number, mark: number): { by: 'mark' | 'port' | 'address'; sas: ChildSa[] } | undefined {
    if (mark !== 0) {
      const sa = matchMark(this.table, address, mark);
      return sa ? { by: 'mark', sas: [sa] } : undefined;
    }
    return matchPeer(this.table, address, port, { unmarkedOnly: this.options.socketMarks === true });
  }

  waitForProtection(address: string, port: number, timeoutMs: number, mark = 0): Promise<PeerProtection> {
    const now = this.peerProtection(address, port, mark);
    if (now === 'protected' || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = () => {
        this.timers.clear(timer);
        unsubscribe();
        resolve(this.peerProtection(address, port, mark));
      };
      const timer = this.timers.set(timeoutMs, done);
      const unsubscribe = this.onSaEvent(() => {
        if (this.peerProtection(address, port, mark) === 'protected') done();
      });
    });
  }

  async terminateForPeer(address: string, port: number, mark = 0): Promise<TerminateResult> {
    if (this.closed) throw new IpsecClosedError('IPsec controller is closed');
    const link = await this.ensureLink();
    const match = this.match(address, port, mark);
    if (!match) return { outcome: 'no-sa' };
    const ikeIds = [...new Set(match.sas.map((sa) => sa.ikeId))];
    if (match.by === 'address' && ikeIds.length > 1) {
      this.log.warn({ address, port, ikeIds }, 'ipsec: several IKE_SAs from this address without a pinned L2TP port; not terminating');
      return { outcome: 'ambiguous', ikeIds };
    }
    for (const ikeId of ikeIds) {
      try {
        // force: delete locally if the (IKEv1) peer does not answer within the timeout.
        await terminateIke(link.conn, { ikeId, timeoutMs: 2_000, force: true });
      } catch (err) {
        throw this.wrap(err, 'terminate');
      }
      this.log.info({ address, port, ...(mark !== 0 ? { mark } : {}), ikeId }, 'ipsec: terminated IKE_SA for peer');
    }
    // Drop them now; the ike-updown events that follow are then no-ops.
    for (const ikeId of ikeIds) this.step({ kind: 'ike-updown', message: { up: 'no', [L2TP_CONN_NAME]: { uniqueid: ikeId } } });
    return { outcome: 'terminated', ikeIds };
  }

  status(): IpsecStatus {
    return {
      connected: this.link !== undefined,
      synced: this.synced,
      uniqueMarks: this.link ? this.link.marks !== 'none' : undefined,
      ...(this.link ? { marks: this.link.marks } : {}),
      appliedRevision: this.link?.appliedRevision,
      childSas: this.table.size,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clear(this.retryTimer);
    const link = this.link ?? (await this.connecting?.catch(() => undefined));
    this.link = undefined;
    this.synced = false;
    await link?.conn.close().catch(() => {});
  }

  // --- connection management ---

  private ensureLink(): Promise<Link> {
    if (this.link) return Promise.resolve(this.link);
    this.connecting ??= this.openLink().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async openLink(): Promise<Link> {
    let conn: ViciConnection;
    try {
      conn = await this.connect(this.options.viciSocket);
    } catch (err) {
      throw this.wrap(err, 'connect');
    }
    const link: Link = { conn, syncing: true, buffered: [], marks: 'none' };
    try {
      link.marks = await this.detectMarks(conn);
      for (const event of SA_EVENTS) {
        await conn.registerEvent(event, (message, name) => this.onViciEvent(link, name, message));
      }
      // Registered before listing, so nothing is lost; events seen meanwhile are replayed on top.
      const sas = await listSas(conn);
      if (this.closed) throw new IpsecClosedError('IPsec controller is closed');
      this.link = link;
      this.step({ kind: 'snapshot', sas });
      for (const event of link.buffered.splice(0)) this.step(event);
      link.syncing = false;
      this.synced = true;
      this.backoffMs = this.options.retry?.initialMs ?? 500;
      void conn.closed.then((reason) => this.onDropped(link, reason));
      this.log.info({ socket: this.options.viciSocket, childSas: this.table.size, marks: link.marks }, 'ipsec: connected to charon');
    } catch (err) {
      if (this.link === link) this.link = undefined;
      this.synced = false;
      await conn.close().catch(() => {});
      throw err instanceof IpsecError ? err : this.wrap(err, 'sync');
    }
    if (this.desired) {
      // A refused push must not tear the link down: apply() retries it and reports the error.
      await this.serializedPush(link).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'ipsec: pushing settings after connect failed'));
    }
    return link;
  }

  private async detectMarks(conn: ViciConnection): Promise<MarkMode> {
    const mode = this.options.uniqueMarks ?? 'auto';
    const marked: MarkMode = this.options.socketMarks ? 'socket' : 'connmark';
    if (mode !== 'auto') return mode === 'on' ? marked : 'none';
    try {
      const stats = await conn.request('stats');
      const plugins = Array.isArray(stats.plugins) ? (stats.plugins as readonly unknown[]) : [];
      // forecast (libcharon-extra-plugins) puts `-d <peer> -j MARK --set-mark <SA mark>` into
      // mangle OUTPUT for every marked CHILD_SA: it overwrites the mark our socket set, and runs
      // ahead of connmark's "restore if mark is 0" rule; either way every reply to one address
      // then carries the NEWEST SA's mark, i.e. leaves through one client's SA. Without marks,
      // clients with distinct L2TP ports still get their own policies.
      if (plugins.includes('forecast')) {
        this.log.warn(
          {},
          'ipsec: charon has the forecast plugin loaded, whose MARK rules override per-SA marks; not using %unique marks, so clients behind one NAT need distinct L2TP ports (set charon.plugins.forecast.load = no)',
        );
        return 'none';
      }
      if (marked === 'socket') return 'socket';
      if (!plugins.includes('connmark')) {
        this.log.warn({}, 'ipsec: the L2TP socket cannot read marks and charon has no connmark plugin; several clients behind one NAT address will not work');
        return 'none';
      }
      return 'connmark';
    } catch (err) {
      this.log.warn({ err }, 'ipsec: stats failed; assuming the forecast plugin could be loaded: no marks');
      return 'none';
    }
  }

  private onDropped(link: Link, reason: Error | undefined): void {
    if (this.link !== link || this.closed) return;
    this.link = undefined;
    this.synced = false;
    this.log.warn({ reason: reason?.message }, 'ipsec: VICI connection lost; reconnecting');
    this.reconnectSoon(this.options.retry?.initialMs ?? 500);
  }

  private reconnectSoon(delayMs: number): void {
    if (this.closed) return;
    this.timers.clear(this.retryTimer);
    this.retryTimer = this.timers.set(delayMs, () => {
      this.retryTimer = undefined;
      if (this.closed || this.link) return;
      this.ensureLink().catch((err: unknown) => {
        if (this.closed) return;
        this.log.warn({ err: (err as Error).message, retryInMs: this.backoffMs }, 'ipsec: cannot reach charon');
        const wait = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.retry?.maxMs ?? 30_000);
        this.reconnectSoon(wait);
      });
    });
  }

  // --- configuration ---

  /** Pushes the latest desired settings, one push at a time. */
  private serializedPush(link: Link): Promise<void> {
    const run = this.pushChain.then(() => this.push(link));
    this.pushChain = run.catch(() => {});
    return run;
  }

  private async push(link: Link): Promise<void> {
    const settings = this.desired;
    if (!settings) return;
    const key = JSON.stringify([settings.ipsec, link.marks, this.options.localId, this.options.forceEncap, this.options.localAddrs]);
    if (link.appliedKey === key) return;
    try {
      if (settings.ipsec === null) {
        await tolerateNotFound(link.conn.request('unload-conn', unloadL2tpConnMessage()), 'unload-conn');
        expectSuccess('unload-shared', await link.conn.request('unload-shared', unloadPskMessage()));
      } else {
        // Key first, so a client arriving right after load-conn finds it.
        expectSuccess('load-shared', await link.conn.request('load-shared', l2tpPskMessage(settings.ipsec.psk)));
        const conn = l2tpConnMessage({
          allowLegacyProposals: settings.ipsec.allowLegacyProposals,
          uniqueMarks: link.marks !== 'none',
          setMarkIn: link.marks === 'socket',
          ...(this.options.localId === undefined ? {} : { localId: this.options.localId }),
          ...(this.options.forceEncap === undefined ? {} : { forceEncap: this.options.forceEncap }),
          ...(this.options.localAddrs === undefined ? {} : { localAddrs: this.options.localAddrs }),
        });
        expectSuccess('load-conn', await link.conn.request('load-conn', conn));
      }
    } catch (err) {
      throw this.wrap(err, 'apply');
    }
    link.appliedKey = key;
    link.appliedRevision = settings.revision;
    this.log.info(
      { revision: settings.revision, enabled: settings.ipsec !== null, legacy: settings.ipsec?.allowLegacyProposals, marks: link.marks },
      'ipsec: settings applied',
    );
  }

  // --- SA tracking ---

  private onViciEvent(link: Link, name: string, message: ViciMessage): void {
    if (!(SA_EVENTS as readonly string[]).includes(name)) return;
    const event = { kind: name, message } as SaTableEvent;
    if (link.syncing) link.buffered.push(event);
    else if (this.link === link) this.step(event);
  }

  private step(event: SaTableEvent): void {
    const { table, changes } = stepSaTable(this.table, event, this.filter);
    this.table = table;
    for (const change of changes) {
      this.log.debug({ change: change.type, ikeId: change.sa.ikeId, remote: change.sa.remoteHost, port: change.sa.l2tpPort, markIn: change.sa.markIn, markOut: change.sa.markOut }, 'ipsec: child SA');
      for (const listener of [...this.listeners]) {
        try {
          listener(change);
        } catch (err) {
          this.log.warn({ err }, 'ipsec: SA listener threw');
        }
      }
    }
  }

  private wrap(err: unknown, operation: string): IpsecError {
    if (err instanceof IpsecError) return err;
    const path = this.options.viciSocket;
    if (err instanceof ViciConnectError) return new IpsecUnavailableError(path, err.code, { cause: err });
    if (err instanceof ViciTimeoutError) return new IpsecUnavailableError(path, 'ETIMEDOUT', { cause: err });
    if (err instanceof ViciClosedError) return new IpsecUnavailableError(path, 'ECONNRESET', { cause: err });
    if (err instanceof ViciCommandError) return new IpsecConfigError(err.command, err.errmsg ?? 'no reason given', { cause: err });
    return new IpsecError(`ipsec ${operation} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** unload-conn of a connection charon does not have is fine (first start, or already unloaded). */
async function tolerateNotFound(response: Promise<ViciMessage>, command: string): Promise<void> {
  const message = await response;
  if (message.success === 'yes') return;
  if (typeof message.errmsg === 'string' && /not found/i.test(message.errmsg)) return;
  expectSuccess(command, message);
}
