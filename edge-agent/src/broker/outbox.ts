import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reports the broker must eventually receive, kept on disk until acknowledged so that neither a
 * broker outage nor an agent restart loses them. The file is an append-only journal of JSON lines:
 * `{"op":"put",...record}` and `{"op":"ack","key":...}`; replaying it rebuilds the pending set.
 *
 * Records are keyed by kind and session: a newer interim report replaces an older one (counters
 * are cumulative, so only the latest matters) and a stop report supersedes interim ones.
 */
export interface OutboxRecord {
  readonly kind: 'interim' | 'stop';
  readonly sessionId: string;
  readonly payload: unknown;
  readonly createdAt: number;
  /** Whose session it was (stop reports), kept on the agent only: not part of the payload. */
  readonly owner?: { readonly tenantId: string; readonly username: string };
}

type JournalLine = ({ op: 'put' } & OutboxRecord) | { op: 'ack'; key: string };

const JOURNAL = 'outbox.jsonl';
/** The journal names users: owner-only, like the directory it creates (security review, issue 14 finding 10). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Rewrite the journal once it holds this many more lines than pending records. */
const COMPACT_SLACK = 1_000;

export function outboxKey(record: Pick<OutboxRecord, 'kind' | 'sessionId'>): string {
  return `${record.kind}:${record.sessionId}`;
}

/** Why the journal cannot be written (the outbox then keeps reports in memory only). */
export interface OutboxUnwritable {
  readonly dir: string;
  /** e.g. `EROFS: read-only file system, open '/var/lib/edge-agent/outbox.jsonl'` */
  readonly reason: string;
}

export class Outbox {
  private readonly pendingByKey = new Map<string, OutboxRecord>();
  /** Set once the journal proved unwritable: reports live in memory until delivered. */
  private unwritable: OutboxUnwritable | undefined;
  private onUnwritable: ((problem: OutboxUnwritable) => void) | undefined;
  /** Records written to the journal (the others live in memory only). */
  private readonly journaled = new WeakSet<OutboxRecord>();
  private journalLines = 0;
  private syncScheduled = false;

  private constructor(private readonly dir: string) {}

  /**
   * Opens (creating if needed) the outbox in `dir` and replays its journal. Corrupt lines are
   * skipped. A directory that cannot be created, read or written does not stop the agent: the
   * outbox keeps reports in memory (delivered while the process lives, lost if it dies first) and
   * says why in `unwritable`, so the agent can tell the operator once, at start-up.
   */
  static open(dir: string): { outbox: Outbox; skippedLines: number; unwritable?: OutboxUnwritable } {
    const outbox = new Outbox(dir);
    let text = '';
    try {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      text = readFileSync(outbox.path, 'utf8');
      chmodSync(outbox.path, FILE_MODE); // a journal written by an older agent with 0644
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') outbox.unwritable = { dir, reason: errorText(error) };
    }
    if (!outbox.unwritable) {
      try {
        closeSync(openSync(outbox.path, 'a', FILE_MODE)); // the journal must be appendable, not only readable
      } catch (error) {
        outbox.unwritable = { dir, reason: errorText(error) };
      }
    }
    let skippedLines = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      outbox.journalLines++;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line) as JournalLine;
      } catch {
        skippedLines++; // a torn last line after a crash
        continue;
      }
      if (entry.op === 'put') {
        const { op: _op, ...record } = entry;
        outbox.journaled.add(record);
        outbox.apply(record);
      } else if (entry.op === 'ack') outbox.pendingByKey.delete(entry.key);
    }
    return { outbox, skippedLines, ...(outbox.unwritable ? { unwritable: outbox.unwritable } : {}) };
  }

  /** Why reports are kept in memory only, if they are. */
  get memoryOnly(): OutboxUnwritable | undefined {
    return this.unwritable;
  }

  /** Called once if the journal becomes unwritable later (disk full, remounted read-only). */
  onceUnwritable(listener: (problem: OutboxUnwritable) => void): void {
    this.onUnwritable = listener;
  }

  private get path(): string {
    return join(this.dir, JOURNAL);
  }

  /**
   * Queues a report. Durable ones are written to the journal before returning (a process that dies
   * afterwards loses nothing: the kernel has the bytes) and fsynced at the end of this event-loop
   * turn, once for every report of that turn (group commit: a reconnect storm of 10,000 stops made
   * 20,000 synchronous fsyncs, 13 s of blocked event loop). The others are kept in memory only, for
   * reports a later one makes redundant anyway (cumulative interim counters).
   */
  put(record: OutboxRecord, options: { durable: boolean } = { durable: true }): void {
    if (options.durable && this.append({ op: 'put', ...record })) {
      this.journaled.add(record);
      this.syncSoon();
    }
    this.apply(record);
  }

  /** Marks a report delivered. Acks of a replaced record are ignored (the newer one stays). */
  ack(record: OutboxRecord): void {
    const key = outboxKey(record);
    if (this.pendingByKey.get(key) !== record) return;
    this.pendingByKey.delete(key);
    if (!this.journaled.has(record)) return;
    // Not fsynced of its own: an ack lost with the machine only means one redelivery, which the
    // broker's idempotent stop answers the same.
    this.append({ op: 'ack', key });
    if (this.journalLines > this.pendingByKey.size + COMPACT_SLACK) this.compact();
  }

  /** Pending reports, oldest first. */
  pending(): OutboxRecord[] {
    return [...this.pendingByKey.values()];
  }

  get size(): number {
    return this.pendingByKey.size;
  }

  private apply(record: OutboxRecord): void {
    const key = outboxKey(record);
    if (record.kind === 'interim' && this.pendingByKey.has(outboxKey({ kind: 'stop', sessionId: record.sessionId }))) {
      return; // the session already stopped; its stop report carries the final counters
    }
    if (record.kind === 'stop') this.pendingByKey.delete(outboxKey({ kind: 'interim', sessionId: record.sessionId }));
    this.pendingByKey.delete(key); // re-insert so iteration order follows the latest write
    this.pendingByKey.set(key, record);
  }

  /** Appends one journal line; false (and memory-only from then on) when the file cannot be written. */
  private append(line: JournalLine): boolean {
    if (this.unwritable) return false;
    try {
      const fd = openSync(this.path, 'a', FILE_MODE);
      try {
        writeSync(fd, `${JSON.stringify(line)}\n`);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      this.markUnwritable(error);
      return false;
    }
    this.journalLines++;
    return true;
  }

  private syncSoon(): void {
    if (this.syncScheduled || this.unwritable) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      this.sync();
    });
  }

  /** Flushes the journal to the disk (best effort: it runs outside any caller that could act on a failure). */
  private sync(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r+');
    } catch {
      return; // nothing written yet, or the directory went away: the next append says so
    }
    try {
      fsyncSync(fd);
    } catch (error) {
      this.markUnwritable(error);
    } finally {
      closeSync(fd);
    }
  }

  /** Rewrites the journal with only the pending durable records (write to a temp file, fsync, rename). */
  compact(): void {
    if (this.unwritable) return;
    const temp = `${this.path}.tmp`;
    const durable = this.pending().filter((record) => this.journaled.has(record));
    const body = durable.map((record) => `${JSON.stringify({ op: 'put', ...record })}\n`).join('');
    try {
      const fd = openSync(temp, 'w', FILE_MODE);
      try {
        writeSync(fd, body);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (error) {
      this.markUnwritable(error); // the old journal stays as it was: replaying it is still correct
      return;
    }
    this.journalLines = durable.length;
  }

  private markUnwritable(error: unknown): void {
    if (this.unwritable) return;
    this.unwritable = { dir: this.dir, reason: errorText(error) };
    this.onUnwritable?.(this.unwritable);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
