/**
 * Sources of external client assertions: a file read afresh for every token request, and a
 * token service over HTTP (real, on 127.0.0.1) asked under the SDK's transport policy.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertionFromFile,
  assertionFromUrl,
  fileAssertionSource,
} from '../../../src/runtime/client/assertion-sources.js';
import { createClientAssertionProvider } from '../../../src/runtime/client/client-assertion.js';
import {
  ClientAssertionError,
  MAX_CLIENT_ASSERTION_LENGTH,
  NetworkError,
  ProtocolError,
} from '../../../src/runtime/errors.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { sendJson, sendText, startServer, type TestServer } from '../../support/http.js';
import { manualClock } from '../fake-fetch.js';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWS-shaped workload token; `n` makes each one distinct. */
function workloadToken(claims: Record<string, unknown> = {}): string {
  return `${b64({ alg: 'RS256', kid: 'workload-1' })}.${b64({ iss: 'https://token.actions.example.test', sub: 'repo:acme/orders:ref:refs/heads/main', ...claims })}.${b64('workload-issuer-signature')}`;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

function everything(error: unknown): string {
  return `${String(error)} ${JSON.stringify(error)} ${inspect(error, { depth: 6 })}`;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's2s-auth-assertion-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('assertionFromFile', () => {
  it('reads the token in the file, without the newline after it', async () => {
    const path = join(dir, 'token');
    const token = workloadToken();
    await writeFile(path, `${token}\n`);
    await expect(assertionFromFile(path)()).resolves.toBe(token);
  });

  it('reads the file again on every call, so a rotated token is picked up', async () => {
    const path = join(dir, 'rotating');
    const source = assertionFromFile(path);
    await writeFile(path, workloadToken({ n: 1 }));
    const first = await source();
    await writeFile(path, workloadToken({ n: 2 }));
    const second = await source();
    expect(second).not.toBe(first);
    expect(second).toBe(workloadToken({ n: 2 }));
  });

  it('fails with file_not_found naming the path when there is no file', async () => {
    const path = join(dir, 'nothing-here');
    const error = await failure(assertionFromFile(path)());
    expect(error).toBeInstanceOf(ClientAssertionError);
    expect(error).toMatchObject({ code: 'file_not_found' });
    expect((error as Error).message).toBe(`the file ${path} does not exist (ENOENT)`);
  });

  it('fails with file_empty for a file holding only white space', async () => {
    const path = join(dir, 'empty');
    await writeFile(path, ' \n');
    const error = await failure(assertionFromFile(path)());
    expect(error).toMatchObject({ name: 'ClientAssertionError', code: 'file_empty' });
    expect((error as Error).message).toContain(path);
  });

  it('fails with file_unreadable for a directory', async () => {
    const path = join(dir, 'a-directory');
    await mkdir(path);
    const error = await failure(assertionFromFile(path)());
    expect(error).toBeInstanceOf(ClientAssertionError);
    expect(error).toMatchObject({ code: 'file_unreadable' });
    expect((error as Error).message).toBe(
      `the file ${path} cannot be read: it is not a regular file`,
    );
  });

  it('fails with too_large for a file far bigger than any assertion, without reading it', async () => {
    const path = join(dir, 'huge');
    await writeFile(path, 'a'.repeat(MAX_CLIENT_ASSERTION_LENGTH * 4 + 1));
    const error = await failure(assertionFromFile(path)());
    expect(error).toMatchObject({ name: 'ClientAssertionError', code: 'too_large' });
    expect((error as Error).message).toContain(
      `holds ${MAX_CLIENT_ASSERTION_LENGTH * 4 + 1} bytes`,
    );
  });

  it('fails with invalid for content that is not a compact JWS, and never shows the content', async () => {
    const path = join(dir, 'garbage');
    const content = 'ghp_not-a-jwt-but-a-secret-9f8e7d';
    await writeFile(path, content);
    const error = await failure(assertionFromFile(path)());
    expect(error).toMatchObject({ name: 'ClientAssertionError', code: 'invalid' });
    expect((error as Error).message).toContain(`the file ${path}`);
    expect(everything(error)).not.toContain(content);
  });

  it('names the file when the token in it has expired', async () => {
    const clock = manualClock();
    const path = join(dir, 'stale');
    const exp = Math.floor(clock.now().getTime() / 1000) - 5;
    await writeFile(path, workloadToken({ exp }));
    const provider = createClientAssertionProvider(
      assertionFromFile(path),
      'createAuthClient',
      clock.now,
    );
    const error = await failure(provider.next());
    expect(error).toMatchObject({ code: 'expired' });
    expect((error as Error).message).toContain(
      `the file ${path} gave a client assertion that expired 5 s ago`,
    );
  });

  it('fails with no_file_system on a runtime without node:fs', async () => {
    const error = await failure(fileAssertionSource('/var/run/token', async () => undefined)());
    expect(error).toBeInstanceOf(ClientAssertionError);
    expect(error).toMatchObject({ code: 'no_file_system' });
  });

  it('refuses an empty path or one with a NUL when it is made', () => {
    for (const path of ['', 'token\0.txt', 7 as unknown as string]) {
      expect(() => assertionFromFile(path)).toThrow(OptionError);
    }
  });
});

describe('assertionFromUrl', () => {
  const requestToken = 'ci-request-credential-0a1b2c3d4e';
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((_request, response) => sendJson(response, 200, {}));
  });
  afterAll(() => server.close());

  it('asks with the headers and the audience, and reads GitHub Actions’ { value } answer', async () => {
    const token = workloadToken({ aud: 'api://AzureADTokenExchange' });
    server.handle((_request, response) => sendJson(response, 200, { count: 1, value: token }));
    server.requests.length = 0;
    const source = assertionFromUrl(`${server.origin}/oidc/token?api-version=2.0`, {
      headers: { Authorization: `bearer ${requestToken}` },
      audience: 'api://AzureADTokenExchange',
    });
    await expect(source()).resolves.toBe(token);
    const [seen] = server.requests;
    expect(seen?.method).toBe('GET');
    expect(seen?.url).toBe('/oidc/token?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange');
    expect(seen?.headers.authorization).toBe(`bearer ${requestToken}`);
  });

  it('reads a { token } answer and a bare token as text', async () => {
    const token = workloadToken();
    server.handle((_request, response) => sendJson(response, 200, { token }));
    await expect(assertionFromUrl(`${server.origin}/t`)()).resolves.toBe(token);
    server.handle((_request, response) => sendText(response, 200, `${token}\n`));
    await expect(assertionFromUrl(`${server.origin}/t`)()).resolves.toBe(token);
  });

  it('asks again on every call', async () => {
    let n = 0;
    server.handle((_request, response) =>
      sendJson(response, 200, { value: workloadToken({ n: ++n }) }),
    );
    const source = assertionFromUrl(`${server.origin}/t`);
    expect(await source()).not.toBe(await source());
  });

  it('fails with http_status for a non-2xx answer, without the credential it sent', async () => {
    server.handle((request, response) =>
      sendJson(response, 403, {
        message: `bad credential ${String(request.headers.authorization)}`,
      }),
    );
    const error = await failure(
      assertionFromUrl(`${server.origin}/t?secret=query-value`, {
        headers: { Authorization: `bearer ${requestToken}` },
      })(),
    );
    expect(error).toBeInstanceOf(ClientAssertionError);
    expect(error).toMatchObject({ code: 'http_status', status: 403 });
    expect((error as Error).message).toBe(
      `the token service ${server.origin}/t answered HTTP 403; expected 200 with a token`,
    );
    expect(everything(error)).not.toContain(requestToken);
    expect(everything(error)).not.toContain('query-value');
  });

  it('fails with no_assertion for JSON without value or token', async () => {
    server.handle((_request, response) => sendJson(response, 200, { count: 0 }));
    const error = await failure(assertionFromUrl(`${server.origin}/t`)());
    expect(error).toMatchObject({ name: 'ClientAssertionError', code: 'no_assertion' });
  });

  it('fails with invalid for a token that is not a compact JWS, without showing it', async () => {
    server.handle((_request, response) =>
      sendJson(response, 200, { value: 'opaque-session-value-77' }),
    );
    const error = await failure(assertionFromUrl(`${server.origin}/t`)());
    expect(error).toMatchObject({ name: 'ClientAssertionError', code: 'invalid' });
    expect(everything(error)).not.toContain('opaque-session-value-77');
  });

  it('refuses a redirect without following it', async () => {
    server.requests.length = 0;
    server.handle((request, response) => {
      if (request.path === '/elsewhere') {
        sendJson(response, 200, { value: workloadToken() });
        return;
      }
      response.writeHead(302, { location: `${server.origin}/elsewhere` }).end();
    });
    const error = await failure(assertionFromUrl(`${server.origin}/t`)());
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'redirect' });
    expect(server.requests.map((r) => r.path)).toEqual(['/t']);
  });

  it('stops reading an answer over its size limit', async () => {
    server.handle((_request, response) =>
      sendText(response, 200, 'a'.repeat(MAX_CLIENT_ASSERTION_LENGTH * 2 + 1)),
    );
    const error = await failure(assertionFromUrl(`${server.origin}/t`)());
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_large' });
  });

  it('gives up after timeoutMs with a NetworkError', async () => {
    server.handle(() => undefined);
    const error = await failure(assertionFromUrl(`${server.origin}/t`, { timeoutMs: 100 })());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('refuses plain http to a host that is not loopback, unless allowInsecureHttp is set', () => {
    const error = (() => {
      try {
        assertionFromUrl('http://ci.example.test/token');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toMatchObject({ code: 'ERR_INSECURE_HTTP', option: 'url' });
    expect(() =>
      assertionFromUrl('http://ci.example.test/token', { allowInsecureHttp: true }),
    ).not.toThrow();
  });

  it('refuses an unknown option, naming the closest known one', () => {
    expect(() => assertionFromUrl(`${server.origin}/t`, { audiance: 'x' } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_UNKNOWN_OPTION',
        message: expect.stringContaining('audience'),
      }),
    );
  });

  it('refuses header values that are not strings', () => {
    expect(() =>
      assertionFromUrl(`${server.origin}/t`, { headers: { Authorization: 7 } as never }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'headers' }));
  });
});
