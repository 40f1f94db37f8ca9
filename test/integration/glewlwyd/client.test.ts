/**
 * createAuthClient against glewlwyd, a second real authorization server (C, Debian package) on
 * 127.0.0.1: discovery, the three client authentication methods, secrets that form encoding
 * changes, scopes and resources, the cache and single flight, DPoP with and without server
 * nonces, and how glewlwyd refuses what it refuses.
 */
import { inspect } from 'node:util';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthClient, OAuthError, type AuthClientOptions } from '../../../src/index.js';
import { verifyDpopProof } from '../../support/dpop.js';
import {
  AWKWARD_SECRET,
  GLEWLWYD_RESOURCES,
  GLEWLWYD_SCOPES,
  glewlwydForFile,
} from '../../support/glewlwyd.js';
import { rejectionOf } from '../../support/caught.js';
import { recordingFetch, type RecordingFetch } from '../../support/http.js';

const idp = glewlwydForFile();

const { ordersRead, ordersWrite, ordersAdmin, ledgerRead } = GLEWLWYD_SCOPES;

function basic(overrides: Partial<AuthClientOptions> = {}): AuthClientOptions {
  return { issuer: idp.issuer, ...idp.clients.basic, scope: ordersRead, ...overrides };
}

function tokenRequests(recorder: RecordingFetch, issuer = idp.issuer) {
  return recorder.sent.filter((request) => request.url === `${issuer}/token`);
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, OAuthError);

describe('discovery and client authentication', () => {
  it('finds the token endpoint through OpenID discovery, glewlwyd having no RFC 8414 document', async () => {
    const recorder = recordingFetch();
    const token = await createAuthClient(basic({ fetch: recorder.fetch })).getToken();
    expect(recorder.sent.map((request) => request.url)).toEqual([
      `${idp.origin}/.well-known/oauth-authorization-server/api/oidc`,
      `${idp.issuer}/.well-known/openid-configuration`,
      idp.tokenEndpoint,
    ]);
    // glewlwyd says "bearer"; the client hands out the RFC 6750 spelling.
    expect(token.token_type).toBe('Bearer');
    expect(token.expires_in).toBe(3600);
    expect(token.scope).toBe(ordersRead);
  });

  it('authenticates with client_secret_basic', async () => {
    const recorder = recordingFetch();
    const token = await createAuthClient(basic({ fetch: recorder.fetch })).getToken();
    const [request] = tokenRequests(recorder);
    expect(request?.headers.get('authorization')).toMatch(/^Basic /);
    expect(new URLSearchParams(request?.body).has('client_secret')).toBe(false);
    expect(decodeJwt(token.access_token)).toMatchObject({
      client_id: idp.clients.basic.clientId,
      sub: idp.clients.basic.clientId,
    });
  });

  it('authenticates with client_secret_post', async () => {
    const recorder = recordingFetch();
    const token = await createAuthClient({
      issuer: idp.issuer,
      ...idp.clients.post,
      clientAuth: 'client_secret_post',
      scope: ordersRead,
      fetch: recorder.fetch,
    }).getToken();
    const [request] = tokenRequests(recorder);
    expect(request?.headers.has('authorization')).toBe(false);
    expect(new URLSearchParams(request?.body).get('client_id')).toBe(idp.clients.post.clientId);
    expect(decodeJwt(token.access_token).client_id).toBe(idp.clients.post.clientId);
  });

  it("authenticates with private_key_jwt when the assertion's aud is the token endpoint", async () => {
    const recorder = recordingFetch();
    const token = await createAuthClient({
      issuer: idp.issuer,
      clientId: idp.clients.privateKeyJwt.clientId,
      clientAuth: 'private_key_jwt',
      privateKey: idp.clients.privateKeyJwt.privateKey,
      clientAssertionAudience: 'token_endpoint',
      scope: ordersRead,
      fetch: recorder.fetch,
    }).getToken();
    const assertion = new URLSearchParams(tokenRequests(recorder)[0]?.body).get('client_assertion');
    expect(decodeJwt(assertion ?? '').aud).toBe(idp.tokenEndpoint);
    expect(decodeProtectedHeader(assertion ?? '').kid).toBe(
      idp.clients.privateKeyJwt.privateKey.kid,
    );
    expect(decodeJwt(token.access_token).client_id).toBe(idp.clients.privateKeyJwt.clientId);
  });

  it('is refused with the default aud, the issuer: a bodiless 403, as an OAuthError', async () => {
    const recorder = recordingFetch();
    const error = await failure(
      createAuthClient({
        issuer: idp.issuer,
        clientId: idp.clients.privateKeyJwt.clientId,
        clientAuth: 'private_key_jwt',
        privateKey: idp.clients.privateKeyJwt.privateKey,
        scope: ordersRead,
        fetch: recorder.fetch,
      }).getToken(),
    );
    const assertion = new URLSearchParams(tokenRequests(recorder)[0]?.body).get('client_assertion');
    expect(decodeJwt(assertion ?? '').aud).toBe(idp.issuer);
    // glewlwyd answers 403 with no body; the SDK names the code after the status.
    expect(error).toMatchObject({ status: 403, code: 'invalid_request' });
    expect(error.description).toBe('HTTP 403 without an OAuth error body');
    expect(tokenRequests(recorder)).toHaveLength(1);
  });
});

describe('a secret with + / = % and a space', () => {
  it("is accepted over client_secret_basic with clientSecretBasicEncoding: 'none'", async () => {
    const token = await createAuthClient({
      issuer: idp.issuer,
      ...idp.clients.awkward,
      clientSecretBasicEncoding: 'none',
      scope: ordersRead,
    }).getToken();
    expect(decodeJwt(token.access_token).client_id).toBe(idp.clients.awkward.clientId);
  });

  it('is refused over client_secret_basic with the RFC 6749 form encoding, glewlwyd not decoding it', async () => {
    const recorder = recordingFetch();
    const error = await failure(
      createAuthClient({
        issuer: idp.issuer,
        ...idp.clients.awkward,
        scope: ordersRead,
        fetch: recorder.fetch,
      }).getToken(),
    );
    expect(error).toMatchObject({ status: 403, code: 'invalid_request' });
    const authorization = tokenRequests(recorder)[0]?.headers.get('authorization') ?? '';
    expect(atob(authorization.slice('Basic '.length))).toBe(
      `${idp.clients.awkward.clientId}:a%2Bb%2Fc%3Dd%2525e+f%2B%2F%3D%25`,
    );
    for (const leak of [AWKWARD_SECRET, authorization.slice('Basic '.length)]) {
      expect(inspect(error, { depth: 5 })).not.toContain(leak);
    }
  });

  it('is accepted over client_secret_post, where glewlwyd does decode the form', async () => {
    const token = await createAuthClient({
      issuer: idp.issuer,
      ...idp.clients.awkward,
      clientAuth: 'client_secret_post',
      scope: ordersRead,
    }).getToken();
    expect(decodeJwt(token.access_token).client_id).toBe(idp.clients.awkward.clientId);
  });
});

describe('scopes and resources', () => {
  it('grants the scopes asked for and says so in scope', async () => {
    const token = await createAuthClient(basic({ scope: [ordersWrite, ordersRead] })).getToken();
    expect(token.scope?.split(' ').sort()).toEqual([ordersRead, ordersWrite]);
    expect((decodeJwt(token.access_token).scope as string).split(' ').sort()).toEqual([
      ordersRead,
      ordersWrite,
    ]);
  });

  it('drops a scope the client may not have and grants the rest, rather than answering invalid_scope', async () => {
    const token = await createAuthClient(basic({ scope: [ordersRead, ordersAdmin] })).getToken();
    expect(token.scope).toBe(ordersRead);
  });

  it('answers scope_invalid, not RFC 6749 invalid_scope, when no scope asked for is granted', async () => {
    const error = await failure(createAuthClient(basic({ scope: ordersAdmin })).getToken());
    expect(error).toMatchObject({ status: 400, code: 'scope_invalid' });
  });

  it('needs a scope: a request without one gets a bodiless 403', async () => {
    const { scope: _scope, ...withoutScope } = basic();
    const error = await failure(createAuthClient(withoutScope).getToken());
    expect(error).toMatchObject({ status: 403, code: 'invalid_request' });
  });

  it('puts an RFC 8707 resource in aud', async () => {
    const token = await createAuthClient(
      basic({ resource: GLEWLWYD_RESOURCES.orders }),
    ).getAccessToken();
    expect(decodeJwt(token).aud).toBe(GLEWLWYD_RESOURCES.orders);
  });

  it('puts the granted scopes in aud when no resource is asked for', async () => {
    const token = await createAuthClient(
      basic({ scope: [ordersRead, ordersWrite] }),
    ).getAccessToken();
    expect((decodeJwt(token).aud as string).split(' ').sort()).toEqual([ordersRead, ordersWrite]);
  });

  it('refuses a resource that none of the scopes allows with invalid_target', async () => {
    const error = await failure(
      createAuthClient(
        basic({ scope: ordersRead, resource: GLEWLWYD_RESOURCES.ledger }),
      ).getToken(),
    );
    expect(error).toMatchObject({ status: 400, code: 'invalid_target' });
  });

  it('takes one resource per request: two, each allowed, get invalid_target', async () => {
    const error = await failure(
      createAuthClient(
        basic({
          scope: [ordersRead, ledgerRead],
          resource: [GLEWLWYD_RESOURCES.orders, GLEWLWYD_RESOURCES.ledger],
        }),
      ).getToken(),
    );
    expect(error).toMatchObject({ status: 400, code: 'invalid_target' });
  });
});

describe('the cache against a real server', () => {
  it('makes one token request for concurrent callers and serves later ones from the cache', async () => {
    const recorder = recordingFetch();
    const auth = createAuthClient(basic({ fetch: recorder.fetch }));
    const tokens = await Promise.all(Array.from({ length: 8 }, () => auth.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(await auth.getAccessToken()).toBe(tokens[0]);
    expect(tokenRequests(recorder)).toHaveLength(1);
  });

  it('keeps a slot per scope set and resource set, shared by equal sets in any order', async () => {
    const recorder = recordingFetch();
    const auth = createAuthClient(basic({ fetch: recorder.fetch }));
    const both = await auth.getAccessToken({ scope: `${ordersRead} ${ordersWrite}` });
    expect(await auth.getAccessToken({ scope: [ordersWrite, ordersRead] })).toBe(both);
    const narrow = await auth.getAccessToken({ scope: ordersRead });
    const forOrders = await auth.getAccessToken({
      scope: ordersRead,
      resource: GLEWLWYD_RESOURCES.orders,
    });
    expect(new Set([both, narrow, forOrders]).size).toBe(3);
    expect(tokenRequests(recorder)).toHaveLength(3);
  });

  it('gets a new token on forceRefresh and after clearCache', async () => {
    const recorder = recordingFetch();
    const auth = createAuthClient(basic({ fetch: recorder.fetch }));
    const first = await auth.getAccessToken();
    const forced = await auth.getAccessToken({ forceRefresh: true });
    auth.clearCache();
    const cleared = await auth.getAccessToken();
    expect(new Set([first, forced, cleared].map((token) => decodeJwt(token).jti)).size).toBe(3);
    expect(await auth.getAccessToken()).toBe(cleared);
    expect(tokenRequests(recorder)).toHaveLength(3);
  });
});

describe('DPoP', () => {
  it('gets a DPoP token bound to the client key, glewlwyd checking the proof', async () => {
    const recorder = recordingFetch();
    const auth = createAuthClient({
      issuer: idp.issuer,
      ...idp.clients.dpop,
      dpop: true,
      scope: ordersRead,
      resource: GLEWLWYD_RESOURCES.orders,
      fetch: recorder.fetch,
    });
    const token = await auth.getToken();
    expect(token.token_type).toBe('DPoP');
    const proof = await verifyDpopProof(
      tokenRequests(recorder)[0]?.headers.get('dpop') ?? undefined,
    );
    expect(proof.payload).toMatchObject({ htm: 'POST', htu: idp.tokenEndpoint });
    expect(decodeJwt(token.access_token).cnf).toEqual({ jkt: proof.jkt });
    expect(await calculateJwkThumbprint(proof.header.jwk!)).toBe(proof.jkt);
  });

  it('binds the token of a client that is not DPoP-bound too, when it sends a proof', async () => {
    const token = await createAuthClient(basic({ dpop: true })).getToken();
    expect(token.token_type).toBe('DPoP');
    expect(decodeJwt(token.access_token).cnf).toHaveProperty('jkt');
  });

  it('refuses a DPoP-bound client that sends no proof with invalid_dpop_proof', async () => {
    const error = await failure(
      createAuthClient({ issuer: idp.issuer, ...idp.clients.dpop, scope: ordersRead }).getToken(),
    );
    expect(error).toMatchObject({ status: 403, code: 'invalid_dpop_proof' });
  });

  it("retries once with the server's nonce when the instance requires one", async () => {
    const recorder = recordingFetch();
    const auth = createAuthClient({
      issuer: idp.nonceIssuer,
      ...idp.clients.dpop,
      dpop: true,
      scope: ordersRead,
      fetch: recorder.fetch,
    });
    const token = await auth.getToken();
    expect(token.token_type).toBe('DPoP');
    const [first, second] = tokenRequests(recorder, idp.nonceIssuer);
    expect((await verifyDpopProof(first?.headers.get('dpop') ?? undefined)).payload.nonce).toBe(
      undefined,
    );
    const retried = await verifyDpopProof(second?.headers.get('dpop') ?? undefined);
    expect(retried.payload.nonce).toEqual(expect.any(String));
    expect(retried.payload.htu).toBe(`${idp.nonceIssuer}/token`);
    // The answer carried the next nonce: the next request needs no retry.
    await auth.getToken({ forceRefresh: true });
    expect(tokenRequests(recorder, idp.nonceIssuer)).toHaveLength(3);
  });
});

describe('bad credentials', () => {
  it('are an OAuthError from a bodiless 403, asked once, the secret nowhere in it', async () => {
    const recorder = recordingFetch();
    const wrong = 'not-the-secret-at-all';
    const error = await failure(
      createAuthClient(basic({ clientSecret: wrong, fetch: recorder.fetch })).getToken(),
    );
    expect(error).toMatchObject({ status: 403, code: 'invalid_request' });
    expect(tokenRequests(recorder)).toHaveLength(1);
    expect(inspect(error, { depth: 5 })).not.toContain(wrong);
  });

  it('are refused the same way for an unknown client', async () => {
    const error = await failure(
      createAuthClient(basic({ clientId: 'nobody', clientSecret: 'nothing' })).getToken(),
    );
    expect(error).toMatchObject({ status: 403, code: 'invalid_request' });
  });

  it('are refused the same way for a method the client is not registered for', async () => {
    const error = await failure(
      createAuthClient({ issuer: idp.issuer, ...idp.clients.post, scope: ordersRead }).getToken(),
    );
    expect(error).toMatchObject({ status: 403, code: 'invalid_request' });
  });
});
