/**
 * Children of the local stack write their logs straight into files, not into pipes to the stack: a
 * pipe whose reader died (the stack was SIGKILLed) made the next log write fail with EPIPE and left
 * an agent unable to finish its shutdown. The stack follows those files instead, like `tail -f`.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface FileFollower {
  /** Reads what is left, then stops following. */
  stop(): void;
}

/** Calls `onLine` for every complete line appended to `path` after `fromOffset`, polling every `intervalMs`. */
export function followFile(path: string, fromOffset: number, onLine: (line: string) => void, intervalMs = 200): FileFollower {
  const fd = openSync(path, 'r');
  let offset = fromOffset;
  let partial = '';
  const buffer = Buffer.alloc(64 * 1024);
  const drain = () => {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, offset);
      if (n <= 0) return;
      offset += n;
      const lines = (partial + buffer.toString('utf8', 0, n)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    }
  };
  const timer = setInterval(drain, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      drain();
      closeSync(fd);
    },
  };
}
