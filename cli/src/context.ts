/** What every command gets: its I/O, the broker client (resolved on first use) and the output mode. */
import type { Command } from 'commander';
import type { ApiClient } from './api-client';
import type { SecretSource } from './secret-input';
import { renderRecord, renderTable, type Column } from './table';

export interface Writable {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: SecretSource;
  readFile(path: string): string;
  sleep(ms: number): Promise<void>;
  now(): number;
  /** Resolves once on Ctrl-C (SIGINT), for `--watch`. */
  interrupted(): Promise<void>;
}

export interface CliContext {
  readonly io: CliIo;
  /** The broker client; resolving it reads the config, so `--help` works without one. */
  client(): ApiClient;
}

/** Whether `--json` was given (a global option). */
export function jsonMode(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals().json);
}

/** Prints a list as a table, or as a JSON array with `--json`. */
export function printList<T>(ctx: CliContext, cmd: Command, rows: readonly T[], columns: readonly Column<T>[]): void {
  ctx.io.stdout.write(jsonMode(cmd) ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows, columns));
}

/** Prints one record as `key: value` lines, or as JSON with `--json`. */
export function printRecord(ctx: CliContext, cmd: Command, record: unknown): void {
  ctx.io.stdout.write(jsonMode(cmd) ? `${JSON.stringify(record, null, 2)}\n` : renderRecord(record as Record<string, unknown>));
}

/** A line for people on stderr (progress, confirmations), so stdout stays the command's result. */
export function note(ctx: CliContext, text: string): void {
  ctx.io.stderr.write(`${text}\n`);
}
