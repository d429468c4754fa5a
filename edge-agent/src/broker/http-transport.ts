/**
 * The agent's HTTP transport to the broker: bearer auth, a deadline per request, a cap on the
 * response size (a broken or hostile broker cannot make the agent buffer megabytes), and retries
 * with exponential backoff and full jitter for requests that are safe to repeat.
 */
import { sleep, systemTimers, type TimerService } from '../clock';
import { createHttpSender, type HttpReply, type HttpSend } from './http-send';

export class BrokerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The broker could not be reached, timed out, or answered 5xx/429 after all retries. */
export class BrokerUnavailableError extends BrokerError {}

/**
 * Not sent: when the request's turn came, nobody waited for it any more (its session had ended).
 * In a reconnect storm most queued authentications belong to clients that already gave up and
 * redialled; sending them would spend the broker on answers nobody reads.
 */
export class BrokerCallAbandonedError extends BrokerError {}

/** The broker answered with a definite refusal (4xx): retrying the same request will not help. */
export class BrokerRejectedError extends BrokerError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request field the refusal names, when the broker names one (e.g. a quota). */
    readonly field?: string,
  ) {
    super(`broker refused (${status} ${code}): ${message}`);
  }
}

export interface TransportOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs?: number;
  /**
   * Requests on the wire at once; the rest wait their turn before their timeout starts. A burst of
   * thousands of PPP authentications (a reconnect storm) otherwise reaches the broker all at once,
   * overloads it, and most calls time out as auth failures. @default 32
   */
  readonly maxInFlight?: number;
  readonly maxResponseBytes?: number;
  /** Attempts for retryable requests (1 = no retry). */
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  /**
   * Reach the broker over this Unix socket instead of TCP; `baseUrl` still gives the Host header
   * and path (an agent on the broker's own host, e.g. in a network namespace of the local stack).
   */
  readonly socketPath?: string;
  /** The HTTP exchange (tests inject one); node:http with keep-alive sockets by default. */
  readonly send?: HttpSend;
  readonly random?: () => number;
  /** Timers for the request deadline and the retry backoff. @default systemTimers() */
  readonly timers?: TimerService;
  /** The retry backoff's wait (tests record it). @default a timer of `timers` */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds clock for queue ages. @default performance.now */
  readonly now?: () => number;
}

export interface RequestOptions {
  /** Safe to repeat (the broker's agent API is idempotent for all of these). Default true. */
  readonly retry?: boolean;
  /**
   * 'high' requests take a free slot before every queued 'normal' one: work that finishes what is
   * already in progress (starting an authenticated session, the heartbeat that keeps the agent
   * alive) must not wait behind a burst of new authentications, or a storm of N sessions makes
   * each started session wait for all N authentications (clients give up IPCP after ~30 s) and
   * the broker declares the agent lost. 'background' requests (stop and accounting reports, which
   * are durable in the outbox and wait for nobody) go when nothing else waits, so a reconnect storm
   * spends the broker on the clients dialling in first; once the oldest has waited
   * `BACKGROUND_SHARE_AFTER_MS`, every `BACKGROUND_SHARE`-th free slot is theirs, so they are never
   * starved. Default 'normal'.
   */
  readonly priority?: 'high' | 'normal' | 'background';
  /** Asked when the request gets its first slot: false drops it unsent (a sent one is seen through). */
  readonly wanted?: () => boolean;
  /**
   * Adaptive LIFO, for requests whose caller gives up after a while (a PPP client waits ~30 s for
   * its authentication). They wait in their own queue, after the high and normal ones, served first
   * come first served while its oldest has waited less than `NEWEST_FIRST_AFTER_MS`, newest first
   * beyond: under a backlog longer than the callers' patience, first come first served answers every
   * request just after its caller gave up (a 10,000-session storm), while newest first answers most
   * in time and lets the oldest be abandoned (see `wanted`). A short backlog stays fair.
   */
  readonly newestFirst?: boolean;
}

/** When the oldest waiting newest-first request has waited this long, the backlog is served newest first. */
export const NEWEST_FIRST_AFTER_MS = 20_000;
/** Background requests waiting this long get a share of the slots even while others wait. */
export const BACKGROUND_SHARE_AFTER_MS = 30_000;
/** That share: one free slot in this many. */
export const BACKGROUND_SHARE = 8;

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export class HttpTransport {
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly send: HttpSend;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly waitingHigh: Array<() => void> = [];
  private readonly waitingNewestFirst: Array<{ readonly wake: () => void; readonly since: number }> = [];
  private readonly waitingBackground: Array<{ readonly wake: () => void; readonly since: number }> = [];
  /** Slots handed on since a background request last got one (for its share). */
  private handOffs = 0;

  constructor(private readonly options: TransportOptions) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 32);
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.attempts = options.attempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    const timers = options.timers ?? systemTimers();
    this.send = options.send ?? createHttpSender(this.maxInFlight, timers, options.socketPath).send;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? ((ms) => sleep(timers, ms));
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body, options);
  }

  private async request<T>(method: string, path: string, body: unknown, options?: RequestOptions): Promise<T> {
    const attempts = options?.retry === false ? 1 : this.attempts;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const enqueue =
          options?.priority === 'high'
            ? (wake: () => void) => this.waitingHigh.push(wake)
            : options?.priority === 'background'
              ? (wake: () => void) => this.waitingBackground.push({ wake, since: this.now() })
              : options?.newestFirst
                ? (wake: () => void) => this.waitingNewestFirst.push({ wake, since: this.now() })
                : (wake: () => void) => this.waiting.push(wake);
        return await this.limited(enqueue, () => {
          // Only before the first attempt: once sent, the broker may have acted on it (a start whose
          // answer timed out), so a retry is still owed its answer even if the caller has gone.
          if (attempt === 1 && options?.wanted?.() === false) throw new BrokerCallAbandonedError(`${method} ${path}: abandoned before it was sent`);
          return this.once<T>(method, path, body);
        });
      } catch (error) {
        if (error instanceof BrokerRejectedError || error instanceof BrokerCallAbandonedError) throw error;
        lastError = error;
        if (attempt < attempts) {
          // Full jitter: spreads a fleet's retries so a recovering broker is not stampeded.
          const cap = this.baseDelayMs * 2 ** (attempt - 1);
          await this.sleep(Math.floor(this.random() * cap));
        }
      }
    }
    if (lastError instanceof BrokerUnavailableError) throw lastError;
    throw new BrokerUnavailableError(`${method} ${path} failed: ${describe(lastError)}`, { cause: lastError });
  }

  /** Runs `call` once fewer than maxInFlight requests are on the wire, waiting (`enqueue`) until then. */
  private async limited<T>(enqueue: (wake: () => void) => void, call: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.maxInFlight) await new Promise<void>((resolve) => enqueue(resolve));
    else this.inFlight++;
    try {
      return await call();
    } finally {
      // Hand the slot straight to the next waiter (inFlight unchanged), or free it.
      const next = this.waitingHigh.shift() ?? this.backgroundShare() ?? this.waiting.shift() ?? this.nextNewestFirst() ?? this.nextBackground();
      if (next) next();
      else this.inFlight--;
    }
  }

  /** A long-waiting background request, on every BACKGROUND_SHARE-th hand-off. */
  private backgroundShare(): (() => void) | undefined {
    const oldest = this.waitingBackground[0];
    if (oldest === undefined || this.now() - oldest.since < BACKGROUND_SHARE_AFTER_MS) return undefined;
    if (++this.handOffs < BACKGROUND_SHARE) return undefined;
    return this.nextBackground();
  }

  private nextBackground(): (() => void) | undefined {
    this.handOffs = 0;
    return this.waitingBackground.shift()?.wake;
  }

  private nextNewestFirst(): (() => void) | undefined {
    const oldest = this.waitingNewestFirst[0];
    if (oldest === undefined) return undefined;
    const backlogged = this.now() - oldest.since >= NEWEST_FIRST_AFTER_MS;
    return (backlogged ? this.waitingNewestFirst.pop() : this.waitingNewestFirst.shift())?.wake;
  }

  /** Requests waiting for a slot (diagnostics and tests). */
  get queued(): number {
    return this.waiting.length + this.waitingHigh.length + this.waitingNewestFirst.length + this.waitingBackground.length;
  }

  private async once<T>(method: string, path: string, body: unknown): Promise<T> {
    let reply: HttpReply;
    try {
      reply = await this.send({
        method,
        url: `${this.options.baseUrl}${path}`,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeoutMs: this.timeoutMs,
        maxResponseBytes: this.maxResponseBytes,
      });
    } catch (error) {
      throw new BrokerUnavailableError(`${method} ${path}: ${describe(error)}`, { cause: error });
    }
    const { status, text } = reply;
    if (status >= 200 && status < 300) {
      try {
        return (text ? JSON.parse(text) : undefined) as T;
      } catch (error) {
        throw new BrokerUnavailableError(`${method} ${path}: response is not JSON`, { cause: error });
      }
    }
    if (RETRYABLE_STATUS.has(status)) {
      throw new BrokerUnavailableError(`${method} ${path}: HTTP ${status}`);
    }
    const { code, message, field } = parseErrorBody(text);
    throw new BrokerRejectedError(status, code, message, field);
  }
}

function parseErrorBody(text: string): { code: string; message: string; field?: string } {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    return {
      code: typeof parsed.error?.code === 'string' ? parsed.error.code : 'unknown',
      message: typeof parsed.error?.message === 'string' ? parsed.error.message : text.slice(0, 200),
      ...(typeof parsed.error?.field === 'string' ? { field: parsed.error.field } : {}),
    };
  } catch {
    return { code: 'unknown', message: text.slice(0, 200) };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ? `${error.message} (${cause.code})` : error.message;
  }
  return String(error);
}
