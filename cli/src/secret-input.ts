/**
 * Reads a secret (a user's password, the PSK) from standard input, never from the command line.
 * A terminal gets a prompt on stderr with echo off; piped input is read whole and its first line
 * taken (`printf '%s\n' "$PW" | tunnel-broker users password ...`).
 */
import { UsageError } from './errors';

export interface SecretSource {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeAllListeners(event: string): unknown;
  resume(): unknown;
  pause(): unknown;
  setEncoding?(encoding: BufferEncoding): unknown;
}

/** The first line of piped text, without its line ending. */
export function firstLine(text: string): string {
  const end = text.search(/\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}

export async function readSecret(stdin: SecretSource, stderr: { write(text: string): unknown }, prompt: string, what: string): Promise<string> {
  const secret = stdin.isTTY ? await readFromTerminal(stdin, stderr, prompt) : firstLine(await readAll(stdin));
  if (secret === '') throw new UsageError(`no ${what} given on standard input`, `type it at the prompt, or pipe it: printf '%s\\n' "$SECRET" | tunnel-broker ...`);
  return secret;
}

function readAll(stdin: SecretSource): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stdin.on('data', (chunk) => void (text += chunk.toString()));
    stdin.on('end', () => resolve(text));
    stdin.resume();
  });
}

function readFromTerminal(stdin: SecretSource, stderr: { write(text: string): unknown }, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(prompt);
    stdin.setEncoding?.('utf8');
    stdin.setRawMode?.(true);
    let text = '';
    const done = (error?: Error) => {
      stdin.setRawMode?.(false);
      stdin.removeAllListeners('data');
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    stdin.on('data', (chunk) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UsageError('interrupted', 'run the command again'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    });
    stdin.resume();
  });
}
