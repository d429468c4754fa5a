/**
 * The README's "Try it" runs verbatim (issue 18 asks that it keeps working): each of its curl
 * commands is read from README.md and sent to the app as written (method, path, body, the
 * operator headers), on DynamoDB Local; each must succeed. `<sessionId>` is a session an agent
 * started for alice, as a client's connection would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN, createHarness, seedAgent, startBody, startGranted, type Harness } from '../../support/api-harness';

interface Curl {
  readonly text: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly authed: boolean;
}

/** The curl commands of the README's "Try it" block, continuation lines joined. */
function tryItCommands(): Curl[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Try it'));
  const block = section.slice(section.indexOf('```sh') + 5, section.indexOf('```', section.indexOf('```sh') + 5));
  const lines = block.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  return lines
    .filter((l) => l.startsWith('curl '))
    .map((text) => {
      const method = /-X (\w+)/.exec(text)?.[1] ?? 'GET';
      const url = /"?\$B(\/[^\s"]*)"?/.exec(text)?.[1];
      if (!url) throw new Error(`no $B URL in: ${text}`);
      const body = /-d '([^']*)'/.exec(text)?.[1];
      return { text, method, path: url, ...(body !== undefined ? { body } : {}), authed: text.includes('"${auth[@]}"') };
    });
}

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h?.close();
});

test('every curl command of "Try it" succeeds as written', async () => {
  const commands = tryItCommands();
  assert.ok(commands.length >= 7, `found ${commands.length} commands`);
  for (const cmd of commands) {
    let path = cmd.path;
    if (path.includes('<sessionId>')) {
      const agent = await seedAgent(h);
      const started = await startGranted(h, agent.token, startBody('readme-1', 'acme', 'alice'));
      assert.equal(started.status, 201, JSON.stringify(started.body));
      path = path.replace('<sessionId>', started.body.sessionId);
    }
    const headers: Record<string, string> = cmd.authed ? { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } : {};
    const res = await h.call(cmd.method, path, { headers, ...(cmd.body !== undefined ? { rawBody: cmd.body } : {}) });
    assert.ok(res.status >= 200 && res.status < 300, `${cmd.text}\n-> ${res.status} ${JSON.stringify(res.body)}`);
  }
});
