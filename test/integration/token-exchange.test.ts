/**
 * `auth.exchangeToken` (RFC 8693) through createAuthClient against the real test IdP
 * (oidc-provider on 127.0.0.1 with a token-exchange grant): delegated tokens with `act` and
 * `aud`, cached per subject and target, single-flight, never served past the subject token or
 * the client assertion, DPoP-bound for a DPoP client, and the server's refusals as `OAuthError`
 * codes with the subject token nowhere in them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertionFromFile,
  createAuthClient,
  OAuthError,
  TokenTypes,
  type AuthClientEvent,
  type AuthClientOptions,
} from '../../src/client.js';
import { OptionError } from '../../src/runtime/shared/options.js';
import { manualClock } from '../support/clock.js';
import { mintAccessToken } from '../support/idp.js';
import {
  EXCHANGE_AUDIENCES,
  EXCHANGE_CLIENTS,
  startTokenExchangeIdp,
  verifyExchangedToken,
  type TokenExchangeIdp,
} from '../support/token-exchange.js';

let idp: TokenExchangeIdp;
let tokenPath: string;
let dir: string;

beforeAll(async () => {
  idp = await startTokenExchangeIdp();
  tokenPath = new URL(idp.endpoints.token).pathname;
  dir = await mkdtemp(join(tmpdir(), 's2s-auth-exchange-'));
});
afterAll(async () => {
  await idp.close();
  await rm(dir, { recursive: true, force: true });
});

function exchanger(extra: Partial<AuthClientOptions> = {}) {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: EXCHANGE_CLIENTS.exchanger.clientId,
    clientSecret: EXCHANGE_CLIENTS.exchanger.clientSecret,
    retry: false,
    ...extra,
  });
}

function subjectToken(): Promise<string> {
  return mintAccessToken(idp, { client: EXCHANGE_CLIENTS.frontend });
}

function expOf(jwt: string): number {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
    exp: number;
  };
  return payload.exp;
}

function tokenRequests(): number {
  return idp.count(tokenPath, 'POST');
}

describe('exchangeToken against the real IdP', () => {
  it('gets a delegated token for the audience, with act naming this client', async () => {
    const subject = await subjectToken();
    const token = await exchanger().exchangeToken({
      subjectToken: subject,
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
      scope: 'ledger:read',
    });
    expect(token).toMatchObject({
      issued_token_type: TokenTypes.accessToken,
      token_type: 'Bearer',
      scope: 'ledger:read',
    });
    const claims = await verifyExchangedToken(idp, token.access_token, EXCHANGE_AUDIENCES.ledger);
    expect(claims.act).toEqual({ sub: EXCHANGE_CLIENTS.exchanger.clientId });
    expect(claims.sub).toBe(EXCHANGE_CLIENTS.frontend.clientId);
  });

  it('serves the second call from the cache: one request to the IdP, events without tokens', async () => {
    const subject = await subjectToken();
    const events: AuthClientEvent[] = [];
    const auth = exchanger({ onEvent: (event) => events.push(event) });
    const options = {
      subjectToken: subject,
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    };
    idp.resetRequests();
    const first = await auth.exchangeToken(options);
    const second = await auth.exchangeToken(options);
    expect(second).toBe(first);
    expect(tokenRequests()).toBe(1);
    expect(events.map((event) => event.type)).toEqual([
      'exchange_cache_miss',
      'token_exchanged',
      'exchange_cache_hit',
    ]);
    expect(events[1]).toMatchObject({
      type: 'token_exchanged',
      slot: { audience: [EXCHANGE_AUDIENCES.ledger], resource: [], scope: '' },
      tokenType: 'Bearer',
      issuedTokenType: TokenTypes.accessToken,
    });
    const shown = JSON.stringify(events);
    expect(shown).not.toContain(subject);
    expect(shown).not.toContain(first.access_token);

    // clearCache drops exchanged tokens too.
    auth.clearCache();
    await auth.exchangeToken(options);
    expect(tokenRequests()).toBe(2);
  });

  it('makes one request for concurrent calls for the same slot', async () => {
    const subject = await subjectToken();
    const auth = exchanger();
    idp.resetRequests();
    const tokens = await Promise.all(
      [0, 1, 2].map(() =>
        auth.exchangeToken({
          subjectToken: subject,
          subjectTokenType: TokenTypes.accessToken,
          audience: EXCHANGE_AUDIENCES.billing,
        }),
      ),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(tokenRequests()).toBe(1);
  });

  it('keeps another subject in another slot', async () => {
    const auth = exchanger();
    const [alice, bob] = [await subjectToken(), await subjectToken()];
    idp.resetRequests();
    const options = {
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    };
    const first = await auth.exchangeToken({ ...options, subjectToken: alice });
    const second = await auth.exchangeToken({ ...options, subjectToken: bob });
    expect(second.access_token).not.toBe(first.access_token);
    expect(tokenRequests()).toBe(2);
  });

  it('never serves the exchanged token past the subject token’s exp, even on a clock ahead', async () => {
    // The client's clock runs 120 s ahead of the IdP's: counted from it, the server's
    // expires_in would end after the subject token.
    const clock = manualClock(new Date(Date.now() + 120_000));
    const subject = await subjectToken();
    const auth = exchanger({ now: clock.now, refreshSkewSeconds: 0 });
    const options = {
      subjectToken: subject,
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    };
    idp.resetRequests();
    const token = await auth.exchangeToken(options);
    expect(token.expires_at).toBe(expOf(subject));

    clock.setSeconds(expOf(subject) - 1);
    expect(await auth.exchangeToken(options)).toBe(token);
    clock.setSeconds(expOf(subject));
    await auth.exchangeToken(options);
    expect(tokenRequests()).toBe(2);
  });

  it('gets a DPoP-bound token for a DPoP client, bound to its key', async () => {
    const auth = exchanger({ dpop: true });
    const token = await auth.exchangeToken({
      subjectToken: await subjectToken(),
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    });
    expect(token.token_type).toBe('DPoP');
    const proof = await auth.buildDpopProof({ htm: 'GET', htu: 'https://ledger.example.com/' });
    const { jwk } = decodeProtectedHeader(proof) as { jwk: JWK };
    const claims = await verifyExchangedToken(idp, token.access_token, EXCHANGE_AUDIENCES.ledger);
    expect(claims.cnf).toEqual({ jkt: await calculateJwkThumbprint(jwk) });
  });

  it('fails with OAuthError invalid_target for an unknown audience, the subject token nowhere in it', async () => {
    const subject = await subjectToken();
    const error: unknown = await exchanger()
      .exchangeToken({
        subjectToken: subject,
        subjectTokenType: TokenTypes.accessToken,
        audience: 'unknown-api',
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_target', status: 400 });
    const [, payload, signature] = subject.split('.') as [string, string, string];
    for (const shown of [String(error), inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(shown).not.toContain(payload);
      expect(shown).not.toContain(signature);
    }
  });

  it('fails with OAuthError invalid_request for a subject token the IdP did not issue', async () => {
    const forged = `${(await subjectToken()).slice(0, -8)}AAAAAAAA`;
    await expect(
      exchanger().exchangeToken({
        subjectToken: forged,
        subjectTokenType: TokenTypes.accessToken,
        audience: EXCHANGE_AUDIENCES.ledger,
      }),
    ).rejects.toMatchObject({ constructor: OAuthError, code: 'invalid_request', status: 400 });
  });

  it('refuses an unknown option with an OptionError naming the closest one', async () => {
    await expect(
      exchanger().exchangeToken({
        subjectToken: 'x',
        subjectTokenType: TokenTypes.accessToken,
        audiences: 'ledger-api',
      } as never),
    ).rejects.toMatchObject({
      constructor: OptionError,
      code: 'ERR_UNKNOWN_OPTION',
      option: 'audiences',
      suggestion: 'audience',
    });
  });
});

describe('exchangeToken by a workload authenticating with a client assertion', () => {
  it('sends the assertion and serves the token no later than the assertion’s exp', async () => {
    const path = join(dir, 'assertion');
    const assertion = await idp.workload.assertion({ lifetimeSeconds: 40 });
    await writeFile(path, assertion);
    const auth = createAuthClient({
      issuer: idp.issuer,
      clientId: idp.workload.clientId,
      clientAuth: 'client_assertion',
      clientAssertion: assertionFromFile(path),
    });
    const token = await auth.exchangeToken({
      subjectToken: await subjectToken(),
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    });
    expect(token.expires_at).toBe(expOf(assertion));
    const claims = await verifyExchangedToken(idp, token.access_token, EXCHANGE_AUDIENCES.ledger);
    expect(claims.act).toEqual({ sub: idp.workload.clientId });
  });
});

describe('exchangeToken against an IdP that requires DPoP nonces', () => {
  let nonceIdp: TokenExchangeIdp;
  beforeAll(async () => {
    nonceIdp = await startTokenExchangeIdp({ dpopNonce: true });
  });
  afterAll(() => nonceIdp.close());

  it('retries once with the server’s nonce and gets a DPoP-bound token', async () => {
    const auth = createAuthClient({
      issuer: nonceIdp.issuer,
      clientId: EXCHANGE_CLIENTS.exchanger.clientId,
      clientSecret: EXCHANGE_CLIENTS.exchanger.clientSecret,
      dpop: true,
      retry: false,
    });
    const subject = await mintAccessToken(nonceIdp, { client: EXCHANGE_CLIENTS.frontend });
    nonceIdp.resetRequests();
    const token = await auth.exchangeToken({
      subjectToken: subject,
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    });
    expect(token.token_type).toBe('DPoP');
    expect(nonceIdp.count(new URL(nonceIdp.endpoints.token).pathname, 'POST')).toBe(2);
    const claims = await verifyExchangedToken(
      nonceIdp,
      token.access_token,
      EXCHANGE_AUDIENCES.ledger,
    );
    expect(claims.cnf?.jkt).toMatch(/^[\w-]{43}$/);
  });
});
