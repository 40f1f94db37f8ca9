/**
 * `clientAuth: 'client_assertion'` through createAuthClient against the real test IdP
 * (oidc-provider on 127.0.0.1): a workload client whose registered key is the workload issuer's
 * authenticates with assertions the platform signed, read afresh from a rotating file for
 * every token request; the tokens they buy are never served past the assertion's `exp`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertionFromFile,
  ClientAssertionError,
  createAuthClient,
  createMemoryStore,
  OAuthError,
  type AuthClientEvent,
} from '../../src/client.js';
import { OptionError } from '../../src/runtime/shared/options.js';
import { manualClock } from '../support/clock.js';
import { startTokenExchangeIdp, type TokenExchangeIdp } from '../support/token-exchange.js';

let idp: TokenExchangeIdp;
let dir: string;

beforeAll(async () => {
  idp = await startTokenExchangeIdp();
  dir = await mkdtemp(join(tmpdir(), 's2s-auth-secretless-'));
});
afterAll(async () => {
  await idp.close();
  await rm(dir, { recursive: true, force: true });
});

/** A real fetch that also records the form of every token request the client sends. */
function recordingFetch() {
  const forms: URLSearchParams[] = [];
  return {
    forms,
    async fetch(request: Request): Promise<Response> {
      if (request.method === 'POST') forms.push(new URLSearchParams(await request.clone().text()));
      return fetch(request);
    },
  };
}

function workloadClient(path: string, extra: Record<string, unknown> = {}) {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: idp.workload.clientId,
    clientAuth: 'client_assertion',
    clientAssertion: assertionFromFile(path),
    scope: 'orders:read',
    retry: false,
    ...extra,
  });
}

/** Epoch seconds of a JWT's `exp`, read without verifying (the test's own assertions). */
function expOf(jwt: string): number {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
    exp: number;
  };
  return payload.exp;
}

describe('a client authenticating with an assertion from a rotating file', () => {
  it('gets tokens from the real IdP, each request carrying the file’s current assertion', async () => {
    const path = join(dir, 'rotating');
    const recorder = recordingFetch();
    const auth = workloadClient(path, { fetch: recorder.fetch });
    const sent: string[] = [];
    for (let rotation = 0; rotation < 2; rotation++) {
      // The platform rewrites the file; the client reads it again for the next token request.
      const assertion = await idp.workload.assertion({ lifetimeSeconds: 300 });
      await writeFile(path, `${assertion}\n`);
      sent.push(assertion);
      const token = await auth.getToken({ forceRefresh: true });
      expect(token.token_type).toBe('Bearer');
    }
    expect(recorder.forms.map((form) => form.get('client_assertion'))).toEqual(sent);
    expect(new Set(sent).size).toBe(2);
    expect(recorder.forms[0]?.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(recorder.forms[0]?.get('client_id')).toBe(idp.workload.clientId);
  });

  it('serves a cached token no later than the assertion’s exp, and fetches again after it', async () => {
    const path = join(dir, 'short');
    const clock = manualClock();
    const events: AuthClientEvent[] = [];
    // The assertion lives 40 s; the IdP's tokens live 300 s.
    const assertion = await idp.workload.assertion({ lifetimeSeconds: 40 });
    await writeFile(path, assertion);
    const auth = workloadClient(path, {
      now: clock.now,
      refreshSkewSeconds: 0,
      onEvent: (event: AuthClientEvent) => events.push(event),
    });
    const first = await auth.getToken();
    expect(first.expires_in).toBeGreaterThan(60);
    expect(first.expires_at).toBe(expOf(assertion));

    clock.setSeconds(expOf(assertion) - 1);
    expect(await auth.getToken()).toBe(first);

    // The platform has rotated the file by the time the first assertion runs out.
    await writeFile(path, await idp.workload.assertion({ lifetimeSeconds: 600 }));
    clock.setSeconds(expOf(assertion));
    const second = await auth.getToken();
    expect(second.access_token).not.toBe(first.access_token);
    expect(events.filter((event) => event.type === 'token_fetched')).toHaveLength(2);
  });

  it('stores the token in the shared cache no longer than the assertion lives', async () => {
    const path = join(dir, 'shared');
    const clock = manualClock();
    const assertion = await idp.workload.assertion({ lifetimeSeconds: 40 });
    await writeFile(path, assertion);
    const cache = createMemoryStore({ now: clock.now });
    const events: AuthClientEvent[] = [];
    const instance = (onEvent?: (event: AuthClientEvent) => void) =>
      workloadClient(path, { now: clock.now, refreshSkewSeconds: 0, cache, onEvent });
    const first = await instance().getToken();

    // Another instance of the fleet takes the stored token while the assertion is valid …
    clock.setSeconds(expOf(assertion) - 1);
    expect((await instance().getToken()).access_token).toBe(first.access_token);

    // … and asks the IdP itself once it has expired.
    await writeFile(path, await idp.workload.assertion({ lifetimeSeconds: 600 }));
    clock.setSeconds(expOf(assertion));
    idp.resetRequests();
    const later = await instance((event) => events.push(event)).getToken();
    expect(later.access_token).not.toBe(first.access_token);
    expect(events.some((event) => event.type === 'shared_cache_hit')).toBe(false);
    expect(idp.count(new URL(idp.endpoints.token).pathname, 'POST')).toBe(1);
  });

  it('fails with OAuthError invalid_client for a forged assertion, and never shows it', async () => {
    const path = join(dir, 'forged');
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await idp.workload.assertion({ key: privateKey });
    await writeFile(path, forged);
    const error: unknown = await workloadClient(path)
      .getToken()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    const [, payload, signature] = forged.split('.') as [string, string, string];
    for (const shown of [String(error), inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(shown).not.toContain(payload);
      expect(shown).not.toContain(signature);
    }
  });

  it('fails with ClientAssertionError file_not_found, neither retried nor opening the circuit', async () => {
    const path = join(dir, 'missing');
    const auth = workloadClient(path, {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 60_000 },
    });
    idp.resetRequests();
    for (let call = 0; call < 2; call++) {
      const error: unknown = await auth.getToken().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ClientAssertionError);
      expect(error).toMatchObject({ code: 'file_not_found' });
    }
    expect(idp.count('/token', 'POST')).toBe(0);
    // The file appears: the circuit is still closed, the next call gets a token at once.
    await writeFile(path, await idp.workload.assertion());
    await expect(auth.getToken()).resolves.toMatchObject({ token_type: 'Bearer' });
  });
});

describe('the client_assertion options', () => {
  const base = { issuer: 'http://127.0.0.1:1', clientId: 'worker' };

  it('names the closest option for a misspelt clientAssertion', () => {
    const options = { ...base, clientAuth: 'client_assertion', clientAssertio: 'x' };
    const error: unknown = (() => {
      try {
        createAuthClient(options as never);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toMatchObject({
      code: 'ERR_UNKNOWN_OPTION',
      option: 'clientAssertio',
      suggestion: 'clientAssertion',
    });
  });

  it('refuses clientAssertion with client_secret_basic', () => {
    expect(() =>
      createAuthClient({
        ...base,
        clientSecret: 's',
        clientAuth: 'client_secret_basic',
        clientAssertion: () => 'a.b.c',
      }),
    ).toThrow(
      expect.objectContaining({
        constructor: OptionError,
        code: 'ERR_INVALID_OPTION',
        option: 'clientAssertion',
      }),
    );
  });

  it('refuses clientAssertionType without client_assertion', () => {
    expect(() =>
      createAuthClient({
        ...base,
        clientSecret: 's',
        clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      }),
    ).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'clientAssertionType' }),
    );
  });

  it('requires clientAssertion for client_assertion', () => {
    expect(() => createAuthClient({ ...base, clientAuth: 'client_assertion' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'clientAssertion' }),
    );
  });

  it('refuses a clientAssertion string that is not a compact JWS when the client is made', () => {
    expect(() =>
      createAuthClient({ ...base, clientAuth: 'client_assertion', clientAssertion: 'not-a-jws' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'clientAssertion' }));
  });

  it('refuses a clientAssertionType that is not an absolute URI', () => {
    expect(() =>
      createAuthClient({
        ...base,
        clientAuth: 'client_assertion',
        clientAssertion: () => 'a.b.c',
        clientAssertionType: 'jwt bearer',
      }),
    ).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'clientAssertionType' }),
    );
  });
});
