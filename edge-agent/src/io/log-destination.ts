/**
 * Where the agent's JSON log lines go: written to a file descriptor (stdout) synchronously, one
 * line per write, so a crash loses nothing already logged. When the reader of that descriptor is
 * gone (EPIPE: the process that read a pipe died), logging stops and the agent carries on; pino's
 * own stdout stream could instead retry the failed line forever and leave the agent unable to
 * finish its shutdown. A full non-blocking pipe (EAGAIN) is retried briefly, then the line is
 * dropped rather than blocking the data path.
 */
import { writeSync } from 'node:fs';

export interface LogDestination {
  write(line: string): void;
  /** Lines that could not be written (reader gone, or a pipe full for too long). */
  readonly dropped: number;
}

const EAGAIN_RETRIES = 20;
const pause = new Int32Array(new SharedArrayBuffer(4));

export function logDestination(fd = 1): LogDestination {
  let gone = false;
  let dropped = 0;
  return {
    get dropped() {
      return dropped;
    },
    write(line) {
      if (gone) {
        dropped++;
        return;
      }
      let data = Buffer.from(line, 'utf8');
      for (let attempt = 0; data.length > 0; ) {
        try {
          data = data.subarray(writeSync(fd, data));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' && ++attempt <= EAGAIN_RETRIES) {
            Atomics.wait(pause, 0, 0, 5);
            continue;
          }
          if (code === 'EPIPE' || code === 'EBADF') gone = true;
          dropped++;
          return;
        }
      }
    },
  };
}
