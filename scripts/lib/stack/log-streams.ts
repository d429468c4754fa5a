/**
 * Where the local stack's logs go: every piece's JSON log to a file under <DATA_DIR>/logs, and a
 * warning or error also as one human line in the terminal (so a 5xx or a failing agent is seen
 * without reading JSON, and the terminal is not a line per heartbeat).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** `HH:MM:SS text`, the terminal's line format. */
export function timestamped(print: (line: string) => void): (line: string) => void {
  return (line) => print(`${new Date().toTimeString().slice(0, 8)} ${line}`);
}

/** One pino JSON line as a short human line: `<prefix>: <msg> (<err>) k=v ...`. */
export function humanLine(prefix: string, json: string): string | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { msg, err, level: _level, time: _time, pid: _pid, hostname: _host, name: _name, service: _service, ...rest } = record;
  const error = err && typeof err === 'object' && 'message' in err ? String((err as { message: unknown }).message) : err ? String(err) : '';
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${prefix}: ${String(msg ?? '')}${error ? ` (${error})` : ''}${fields ? ` ${fields}` : ''}`;
}

export interface StackLog {
  readonly logger: Logger;
  readonly file: string;
  close(): Promise<void>;
}

/** A pino logger writing JSON at `level` to `file`, and warnings and errors to `print`. */
export function stackLogger(options: { file: string; level: string; prefix: string; print: (line: string) => void }): StackLog {
  const stream: WriteStream = createWriteStream(options.file, { flags: 'a', mode: 0o600 });
  const terminal = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const json of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const line = humanLine(options.prefix, json);
        if (line) options.print(line);
      }
      done();
    },
  });
  const logger = pino(
    { level: options.level },
    pino.multistream([
      { level: options.level as pino.Level, stream },
      { level: 'warn', stream: terminal },
    ]),
  );
  return {
    logger,
    file: options.file,
    close: () => new Promise<void>((done) => stream.end(done)),
  };
}
