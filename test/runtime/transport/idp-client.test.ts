/**
 * The transport policy every request to the authorization server goes through, with an
 * injected fetch: redirects are refused in every shape a fetch can report them, bodies are
 * read under a byte limit and cancelled at it, failures carry a machine code and name their
 * real cause, and what the server echoes is scrubbed of every credential the request carried.
 * test/integration/transport-policy.test.ts does the same against real servers.
 */
import { describe, expect, it } from 'vitest';
import { NetworkError, OAuthError, ProtocolError } from '../../../src/runtime/errors.js';
import { basicCredentials, formEncodeComponent } from '../../../src/runtime/shared/form.js';
import {
  createIdpClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  exchange,
  type IdpCall,
} from '../../../src/runtime/transport/idp-client.js';
import { toOAuthError } from '../../../src/runtime/transport/idp-answer.js';
import type { FetchLike } from '../../../src/runtime/shared/options.js';
import { fakeFetch, json } from '../fake-fetch.js';

const url = 'https://idp.example.test/keys';

function call(
  fetch: FetchLike,
  overrides: Partial<IdpCall> = {},
  maxResponseBytes?: number,
): IdpCall {
  const client = createIdpClient(fetch, maxResponseBytes === undefined ? {} : { maxResponseBytes });
  return { client, url, endpoint: 'JWKS endpoint', timeoutMs: 1000, ...overrides };
}

function get(idp: IdpCall) {
  return exchange(idp, (middleware) => idp.client.GET('/jwks', { parseAs: 'text', middleware }));
}

function post(idp: IdpCall, body: Record<string, string>, headers: Record<string, string> = {}) {
  return exchange(idp, (middleware) =>
    idp.client.POST('/token', {
      body: body as never,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      parseAs: 'text',
      middleware,
    }),
  );
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** A body of `size` bytes in `chunk`-byte pieces, counting what was pulled and whether it was cancelled. */
function countingBody(size: number, chunk = 64 * 1024) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= size) {
        controller.close();
        return;
      }
      const piece = new Uint8Array(Math.min(chunk, size - seen.pulled)).fill(0x20);
      seen.pulled += piece.byteLength;
      controller.enqueue(piece);
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])(
    'refuses an HTTP %i with a ProtocolError redirect that names the status and the URL asked',
    async (status) => {
      const fetch = fakeFetch(
        () =>
          new Response(null, { status, headers: { location: 'https://evil.example.test/keys' } }),
      );
      const error = await failure(get(call(fetch)));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'redirect', cause: { status, url } });
      expect((error as Error).message).toContain(`HTTP ${status}`);
      expect((error as Error).message).toContain(url);
      expect((error as Error).message).toContain('https://evil.example.test/keys');
      expect((error as Error).message).toMatch(/redirects are refused/);
      expect(fetch.seen).toHaveLength(1);
    },
  );

  it('refuses a redirect whose Location is relative, or not a URL at all', async () => {
    const cases: [string, string][] = [
      ['/elsewhere?secret=1', 'https://idp.example.test/elsewhere'],
      ['http://[not-a-host', '(invalid URL)'],
    ];
    for (const [location, shown] of cases) {
      const fetch = fakeFetch(() => new Response(null, { status: 302, headers: { location } }));
      const error = await failure(get(call(fetch)));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'redirect' });
      expect((error as Error).message).toContain(`to ${shown};`);
      expect((error as Error).message).not.toContain('secret=1');
    }
  });

  it('scrubs the credentials of the request from the Location it names', async () => {
    const secret = 'client-secret-value';
    const fetch = fakeFetch(
      () =>
        new Response(null, {
          status: 302,
          headers: { location: `https://evil.example.test/echo/${secret}/${btoa(`id:${secret}`)}` },
        }),
    );
    const idp = call(fetch, { url: 'https://idp.example.test/token', endpoint: 'token endpoint' });
    const error = await failure(
      post(idp, { grant_type: 'client_credentials', client_id: 'id', client_secret: secret }),
    );
    expect(error).toMatchObject({ code: 'redirect' });
    expect((error as Error).message).toContain('https://evil.example.test/echo/[redacted]/');
    expect((error as Error).message).not.toContain(secret);
    expect((error as Error).message).not.toContain(btoa(`id:${secret}`));
  });

  it('asks fetch not to follow redirects, on GET and POST alike', async () => {
    const modes: RequestRedirect[] = [];
    const fetch: FetchLike = async (request) => {
      modes.push(request.redirect);
      return json({ keys: [] });
    };
    await get(call(fetch));
    await post(call(fetch), { grant_type: 'client_credentials' });
    expect(modes).toEqual(['manual', 'manual']);
  });

  it('refuses the opaque redirect a browser fetch returns for redirect: manual', async () => {
    const fetch: FetchLike = async () => {
      const response = Response.error();
      Object.defineProperty(response, 'type', { value: 'opaqueredirect' });
      return response;
    };
    const error = await failure(get(call(fetch)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'redirect', cause: { status: 0 } });
  });

  it('refuses an answer a custom fetch got by following a redirect anyway (redirected)', async () => {
    const fetch: FetchLike = async () => {
      const response = json({ keys: [] });
      Object.defineProperty(response, 'redirected', { value: true });
      return response;
    };
    const error = await failure(get(call(fetch)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'redirect' });
  });

  it('refuses an answer whose URL is not the URL asked', async () => {
    const fetch: FetchLike = async () => {
      const response = json({ keys: [] });
      Object.defineProperty(response, 'url', { value: 'https://evil.example.test/keys' });
      return response;
    };
    const error = await failure(get(call(fetch)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'redirect' });
    expect((error as Error).message).toContain('https://evil.example.test/keys');
  });

  it('takes an answer whose URL is the one asked, fragment aside', async () => {
    const fetch: FetchLike = async () => {
      const response = json({ keys: [] });
      Object.defineProperty(response, 'url', { value: url });
      return response;
    };
    const answer = await get(call(fetch, { url: `${url}#frag` }));
    expect(answer.text).toBe('{"keys":[]}');
  });
});

describe('the byte limit on answers', () => {
  it('reads a body within the limit whole, as text', async () => {
    const body = JSON.stringify({ keys: [], pad: 'é'.repeat(1000) });
    const answer = await get(
      call(
        fakeFetch(() => new Response(body)),
        {},
        4096,
      ),
    );
    expect(answer.text).toBe(body);
  });

  it('defaults to 1 MiB', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(1024 * 1024);
    expect(createIdpClient(fakeFetch(() => json({}))).maxResponseBytes).toBe(1024 * 1024);
  });

  it('refuses a Content-Length over the limit before reading any of the body', async () => {
    const { stream, seen } = countingBody(50 * 1024 * 1024);
    const fetch = fakeFetch(
      () => new Response(stream, { headers: { 'content-length': String(50 * 1024 * 1024) } }),
    );
    const error = await failure(get(call(fetch, {}, 1024)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_large', cause: { limit: 1024 } });
    expect((error as Error).message).toMatch(
      /52428800 bytes \(Content-Length\), over maxResponseBytes \(1024\)/,
    );
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(64 * 1024);
  });

  it('counts the bytes of a body without Content-Length and cancels it at the limit', async () => {
    const { stream, seen } = countingBody(50 * 1024 * 1024, 1000);
    const error = await failure(
      get(
        call(
          fakeFetch(() => new Response(stream)),
          {},
          10_000,
        ),
      ),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_large' });
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(20_000);
  });

  it('counts the bytes when Content-Length says less than the body holds', async () => {
    const { stream, seen } = countingBody(50 * 1024 * 1024, 1000);
    const fetch = fakeFetch(() => new Response(stream, { headers: { 'content-length': '16' } }));
    const error = await failure(get(call(fetch, {}, 10_000)));
    expect(error).toMatchObject({ code: 'too_large' });
    expect(seen.cancelled).toBe(true);
  });

  it('limits error bodies too, before any OAuth error is made of them', async () => {
    const { stream } = countingBody(5 * 1024 * 1024);
    const error = await failure(
      get(
        call(
          fakeFetch(() => new Response(stream, { status: 400 })),
          {},
          1024,
        ),
      ),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_large' });
  });

  it('takes a body of exactly the limit', async () => {
    const { stream } = countingBody(4096, 1000);
    const answer = await get(
      call(
        fakeFetch(() => new Response(stream)),
        {},
        4096,
      ),
    );
    expect(answer.text).toHaveLength(4096);
  });

  it('times out a body that stops arriving even when fetch does not tie it to the signal', async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"keys":'));
      },
    });
    const error = await failure(
      get(
        call(
          fakeFetch(() => new Response(stalled)),
          { timeoutMs: 50 },
        ),
      ),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'timeout' });
  });
});

describe('network failures', () => {
  /** What undici throws: a TypeError whose cause has the system code. */
  function failingFetch(code: string, message = code): FetchLike {
    return async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
    };
  }

  it.each([
    ['ECONNREFUSED', 'refused', /connection refused/],
    ['ENOTFOUND', 'dns', /host name not found \(ENOTFOUND\)/],
    ['EAI_AGAIN', 'dns', /DNS lookup failed.*\(EAI_AGAIN\)/],
    ['ECONNRESET', 'reset', /connection reset \(ECONNRESET\)/],
    ['UND_ERR_SOCKET', 'reset', /connection closed by the server/],
    ['ETIMEDOUT', 'timeout', /timed out/],
    ['EHOSTUNREACH', 'unreachable', /no route/],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls', /plain HTTP, not TLS/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls', /TLS failed.*\(DEPTH_ZERO_SELF_SIGNED_CERT\)/],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'tls',
      /not trusted or not valid \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    ],
    ['ERR_SSL_SOMETHING_NEW', 'tls', /TLS failed.*\(ERR_SSL_SOMETHING_NEW\)/],
    ['EWHATEVER', 'failed', /request failed \(EWHATEVER\)/],
  ])('names %s as code %s in words a person can act on', async (socketCode, code, words) => {
    const error = await failure(get(call(failingFetch(socketCode))));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(words);
    expect((error as Error).message).toContain(url);
  });

  it('does not call a DNS failure "host name not found" when the lookup itself failed', async () => {
    const error = await failure(get(call(failingFetch('EAI_AGAIN'))));
    expect((error as Error).message).not.toMatch(/not found/);
  });

  it('says aborted, with code aborted, when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const never: FetchLike = (request) =>
      new Promise((_, reject) => {
        if (request.signal.aborted) reject(request.signal.reason as unknown);
        request.signal.addEventListener('abort', () => reject(request.signal.reason as unknown));
      });
    const error = await failure(get(call(never, { signal: controller.signal })));
    expect(error).toMatchObject({ code: 'aborted' });
  });
});

describe('what the server echoes back', () => {
  const secret = 'p+ss/w=rd%20 wïth €';
  const clientId = 'svc one';

  /** A server that echoes the whole request, headers and body, in every way it can. */
  const echo: FetchLike = async (request) => {
    const body = await request.text();
    const headers = [...request.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
    const authorization = request.headers.get('authorization')?.replace(/^Basic /, '') ?? '';
    const decoded = authorization ? atob(authorization) : '';
    return json(
      {
        error: `invalid_client ${decoded}`,
        error_description: `${headers}\n${body}\n${decodeURIComponent(decoded)}\n${new URLSearchParams(body).toString()}`,
      },
      401,
    );
  };

  it('scrubs a Basic credential and its parts from error and error_description', async () => {
    const idp = call(echo, { url: 'https://idp.example.test/token', endpoint: 'token endpoint' });
    const answer = await post(
      idp,
      { grant_type: 'client_credentials' },
      { Authorization: basicCredentials(clientId, secret) },
    );
    const error = toOAuthError(answer, idp);
    expect(error).toBeInstanceOf(OAuthError);
    const text = `${error.message} ${error.code} ${error.description}`;
    for (const form of [
      secret,
      formEncodeComponent(secret),
      basicCredentials(clientId, secret).slice(6),
    ]) {
      expect(text).not.toContain(form);
    }
    expect(error.description).toContain('[redacted]');
  });

  it('scrubs form members that carry credentials or tokens, without being told them', async () => {
    const idp = call(echo, { url: 'https://idp.example.test/token', endpoint: 'token endpoint' });
    const values = {
      client_secret: 'post-secret value+/=',
      client_assertion: 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJzdmMifQ.c2lnbmF0dXJl',
      token: 'opaque-token-under-test',
    };
    const answer = await post(
      idp,
      { grant_type: 'client_credentials', ...values },
      { DPoP: 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiIxIn0.cHJvb2Y' },
    );
    const error = toOAuthError(answer, idp);
    for (const value of [
      ...Object.values(values),
      'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiIxIn0.cHJvb2Y',
    ]) {
      expect(error.description).not.toContain(value);
      expect(error.description).not.toContain(formEncodeComponent(value));
    }
  });
});
