import { describe, expect, it, vi } from 'vitest';
import { TokenError, type ReplayStore } from '../../../src/index.js';
import {
  claimsOf,
  AUDIENCE,
  ISSUER,
  RESOURCE_URL,
  accessToken,
  dpopProof,
  makeDpopKey,
  request,
  setup,
  type Setup,
} from './helpers.js';

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

const ALGS = 'algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519"';

async function boundRequest(s: Setup, init: { method?: string; url?: string } = {}) {
  const dpopKey = await makeDpopKey();
  const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
  const proof = await dpopProof(dpopKey, s.now(), {
    accessToken: token,
    htm: init.method ?? 'GET',
    htu: init.url ?? RESOURCE_URL,
  });
  return {
    dpopKey,
    token,
    proof,
    req: request({ authorization: `DPoP ${token}`, dpop: proof }, init),
  };
}

describe('verifyRequest with Bearer tokens', () => {
  it('verifies the token of a Fetch API Request', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now());
    await expect(
      s.server.verifyRequest(request({ authorization: `Bearer ${token}` })),
    ).resolves.toMatchObject({
      aud: AUDIENCE,
    });
  });

  it('reads a plain { method, url, headers } object with Node-style headers', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now());
    const claims = await s.server.verifyRequest({
      method: 'GET',
      url: RESOURCE_URL,
      headers: { host: 'api.example.test', authorization: `Bearer ${token}` },
    });
    expect(claims.sub).toBe('orders-worker');
    await expect(
      s.server.verifyRequest({
        method: 'GET',
        url: '/orders',
        headers: { Authorization: [`Bearer ${token}`] },
      }),
    ).resolves.toEqual(claimsOf(token));
  });

  it('reads the scheme without regard to case', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now());
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      await expect(
        s.server.verifyRequest(request({ authorization: `${scheme} ${token}` })),
      ).resolves.toEqual(claimsOf(token));
    }
  });

  it('answers a request without credentials with a challenge for both schemes and no error', async () => {
    const s = await setup({ realm: 'orders' });
    for (const headers of [
      {},
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
    ] as Record<string, string>[]) {
      const error = await rejection(s.server.verifyRequest(request(headers)));
      expect(error.reason).toBe('missing');
      expect(error.status).toBe(401);
      expect(error.wwwAuthenticate).toBe(`Bearer realm="orders", DPoP realm="orders", ${ALGS}`);
    }
  });

  it('refuses a malformed Authorization header', async () => {
    const s = await setup();
    for (const authorization of ['Bearer a b', 'Bearer tok"en', `Bearer ${'a'.repeat(20_000)}`]) {
      const error = await rejection(s.server.verifyRequest(request({ authorization })));
      expect(error.reason).toBe('malformed');
      expect(error.wwwAuthenticate).toMatch(/^Bearer error="invalid_token"/);
    }
  });

  it('refuses several Authorization headers with 400 invalid_request, however they arrive', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now());
    const folded = new Headers();
    folded.append('Authorization', `Bearer ${token}`);
    folded.append('authorization', 'Bearer second');
    const requests = [
      // Node's headersDistinct, and a record with the name in two spellings.
      { method: 'GET', url: RESOURCE_URL, headers: { authorization: [`Bearer ${token}`, 'x'] } },
      {
        method: 'GET',
        url: RESOURCE_URL,
        headers: { Authorization: `Bearer ${token}`, AUTHORIZATION: `Bearer ${token}` },
      },
      // Fetch joins repeated lines with a comma; a proxy may write them so too.
      new Request(RESOURCE_URL, { headers: folded }),
      request({ authorization: `Bearer ${token}, Bearer ${token}` }),
      request({ authorization: `DPoP ${token}, Basic dXNlcjpwYXNz` }),
      request({ authorization: `Bearer ${token},` }),
      request({ authorization: `Basic dXNlcjpwYXNz, Bearer ${token}` }),
    ];
    for (const candidate of requests) {
      const error = await rejection(s.server.verifyRequest(candidate));
      expect(error).toBeInstanceOf(TokenError);
      expect(error).toMatchObject({
        reason: 'duplicate_credentials',
        status: 400,
        error: 'invalid_request',
        errorDescription: 'the request carries more than one Authorization credential',
        wwwAuthenticate:
          'Bearer error="invalid_request", error_description="the request carries more than one Authorization credential"',
      });
    }
  });

  it('leaves a comma in the credentials of another scheme alone: no credentials for this server', async () => {
    const s = await setup();
    const error = await rejection(
      s.server.verifyRequest(request({ authorization: 'Digest username="a", realm="b"' })),
    );
    expect(error).toMatchObject({ reason: 'missing', status: 401, error: undefined });
  });

  it('refuses a DPoP-bound token presented as Bearer, challenging with DPoP', async () => {
    const s = await setup();
    const { token, proof } = await boundRequest(s);
    const error = await rejection(
      s.server.verifyRequest(request({ authorization: `Bearer ${token}`, dpop: proof })),
    );
    expect(error.reason).toBe('dpop');
    expect(error.wwwAuthenticate).toMatch(
      /^DPoP error="invalid_token", error_description="[^"]+", algs="/,
    );
  });

  it('with dpop.required, refuses Bearer tokens and offers only DPoP', async () => {
    const s = await setup({ dpop: { required: true } });
    const token = await accessToken(s.key, s.now());
    expect(
      (await rejection(s.server.verifyRequest(request({ authorization: `Bearer ${token}` }))))
        .reason,
    ).toBe('dpop');
    expect((await rejection(s.server.verifyRequest(request({})))).wwwAuthenticate).toBe(
      `DPoP ${ALGS}`,
    );
  });

  it('never throws anything but a TokenError for a request that is not one', async () => {
    const s = await setup();
    for (const input of [
      null,
      undefined,
      42,
      'GET /',
      {},
      { method: 'GET', url: RESOURCE_URL },
      { headers: 5 },
    ]) {
      await rejection(s.server.verifyRequest(input as never));
    }
  });
});

describe('verifyRequest with DPoP', () => {
  it('accepts a bound token with a valid proof and returns its claims', async () => {
    const s = await setup();
    const { req, dpopKey } = await boundRequest(s);
    await expect(s.server.verifyRequest(req)).resolves.toMatchObject({ cnf: { jkt: dpopKey.jkt } });
  });

  it('accepts proofs signed with EdDSA, RS256 and PS256 keys', async () => {
    const s = await setup();
    for (const alg of ['EdDSA', 'RS256', 'PS256'] as const) {
      const dpopKey = await makeDpopKey(alg);
      const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
      const proof = await dpopProof(dpopKey, s.now(), { accessToken: token });
      await expect(
        s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof })),
        alg,
      ).resolves.toEqual(claimsOf(token));
    }
  });

  it('compares htu after normalising the request URL', async () => {
    const s = await setup();
    const dpopKey = await makeDpopKey();
    const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
    const proof = await dpopProof(dpopKey, s.now(), {
      accessToken: token,
      htu: 'https://api.example.test/orders/42',
    });
    const req = request(
      { authorization: `DPoP ${token}`, dpop: proof },
      { url: 'HTTPS://API.EXAMPLE.TEST:443/orders/%34%32?expand=items#x' },
    );
    await expect(s.server.verifyRequest(req)).resolves.toEqual(claimsOf(token));
  });

  it('compares htm with the method, upper-casing the standard ones of a plain object', async () => {
    const s = await setup();
    const { token, proof } = await boundRequest(s, { method: 'POST' });
    await expect(
      s.server.verifyRequest({
        method: 'post',
        url: RESOURCE_URL,
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      }),
    ).resolves.toEqual(claimsOf(token));
  });

  it('refuses a DPoP-scheme token that is not bound to a key', async () => {
    const s = await setup();
    const dpopKey = await makeDpopKey();
    const token = await accessToken(s.key, s.now());
    const proof = await dpopProof(dpopKey, s.now(), { accessToken: token });
    const error = await rejection(
      s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof })),
    );
    expect(error.reason).toBe('dpop');
    expect(error.wwwAuthenticate).toMatch(/^DPoP error="invalid_token"/);
  });

  it('refuses a DPoP request without a proof', async () => {
    const s = await setup();
    const { token } = await boundRequest(s);
    const error = await rejection(
      s.server.verifyRequest(request({ authorization: `DPoP ${token}` })),
    );
    expect(error.reason).toBe('dpop');
    expect(error.wwwAuthenticate).toMatch(
      /^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="/,
    );
  });

  it('refuses a request with two DPoP headers with 401 invalid_dpop_proof, however they arrive', async () => {
    const s = await setup();
    const { token, proof } = await boundRequest(s);
    const headers = new Headers({ authorization: `DPoP ${token}` });
    headers.append('DPoP', proof);
    headers.append('dpop', proof);
    const candidates = [
      new Request(RESOURCE_URL, { headers }),
      {
        method: 'GET',
        url: RESOURCE_URL,
        headers: { authorization: `DPoP ${token}`, dpop: [proof, proof] },
      },
      {
        method: 'GET',
        url: RESOURCE_URL,
        headers: { authorization: `DPoP ${token}`, DPoP: proof, dpop: proof },
      },
    ];
    for (const candidate of candidates) {
      expect(await rejection(s.server.verifyRequest(candidate))).toMatchObject({
        reason: 'dpop',
        status: 401,
        error: 'invalid_dpop_proof',
        errorDescription: 'the request carries more than one DPoP proof',
      });
    }
  });

  it('refuses a DPoP request whose URL is not absolute', async () => {
    const s = await setup();
    const { token, proof } = await boundRequest(s);
    const error = await rejection(
      s.server.verifyRequest({
        method: 'GET',
        url: '/orders/42',
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      }),
    );
    expect(error.reason).toBe('dpop');
  });

  it('answers a bad proof with 401 even when the token also lacks a required scope', async () => {
    const s = await setup({ requiredScopes: ['orders:admin'] });
    const { token } = await boundRequest(s);
    const error = await rejection(
      s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: 'x.y.z' })),
    );
    expect(error.status).toBe(401);
    const good = await boundRequest(s);
    expect((await rejection(s.server.verifyRequest(good.req))).status).toBe(403);
  });

  it('accepts only the configured proof algorithms and advertises them', async () => {
    const s = await setup({ dpop: { algorithms: ['EdDSA'] } });
    const { req } = await boundRequest(s);
    const error = await rejection(s.server.verifyRequest(req));
    expect(error.reason).toBe('dpop');
    expect(error.wwwAuthenticate).toContain('algs="EdDSA"');
  });

  describe('replay', () => {
    it('verifies the same request again, with other scopes, without taking its proof for a replay', async () => {
      let recorded = 0;
      const replayStore: ReplayStore = {
        checkAndSet: () => {
          recorded += 1;
          return recorded === 1;
        },
      };
      const s = await setup({ replayStore });
      const { req } = await boundRequest(s);
      await expect(s.server.verifyRequest(req)).resolves.toMatchObject({ iss: ISSUER });
      await expect(
        s.server.verifyRequest(req, { requiredScopes: 'orders:write' }),
      ).resolves.toMatchObject({ iss: ISSUER });
      expect(
        await rejection(s.server.verifyRequest(req, { requiredScopes: 'orders:admin' })),
      ).toMatchObject({ reason: 'scope', status: 403 });
      expect(recorded).toBe(1);
    });

    it('checks the time, audience and scopes of a request asked about again, on a copy of its claims', async () => {
      const s = await setup();
      const { req } = await boundRequest(s);
      const first = await s.server.verifyRequest(req);
      // A handler that changes the claims it was given changes nothing for the next check.
      first.scope = 'orders:admin';
      expect(
        await rejection(s.server.verifyRequest(req, { requiredScopes: 'orders:admin' })),
      ).toMatchObject({ reason: 'scope', status: 403 });
      expect(
        await rejection(s.server.verifyRequest(req, { audience: 'https://other.example.test' })),
      ).toMatchObject({ reason: 'audience', status: 401 });
      s.clock.advance(400);
      expect(await rejection(s.server.verifyRequest(req))).toMatchObject({ reason: 'expired' });
    });

    it('takes the same proof in a new request for a replay', async () => {
      const s = await setup();
      const { token, proof, req } = await boundRequest(s);
      await s.server.verifyRequest(req);
      const again = request({ authorization: `DPoP ${token}`, dpop: proof });
      expect(await rejection(s.server.verifyRequest(again))).toMatchObject({
        reason: 'dpop_replay',
        status: 401,
      });
    });

    it('checks in full a request whose headers were changed after it was verified', async () => {
      const s = await setup();
      const { token, proof, dpopKey } = await boundRequest(s);
      const headers: Record<string, string> = { authorization: `DPoP ${token}`, dpop: proof };
      const req = { method: 'GET', url: RESOURCE_URL, headers };
      await s.server.verifyRequest(req);
      headers.dpop = await dpopProof(dpopKey, s.now(), {
        accessToken: token,
        htu: 'https://elsewhere.example.test/',
      });
      expect(await rejection(s.server.verifyRequest(req))).toMatchObject({ reason: 'dpop' });
      headers.dpop = proof;
      await expect(
        s.server.verifyRequest({ ...req, url: 'https://api.example.test/orders/43' }),
      ).rejects.toMatchObject({ reason: 'dpop' });
    });

    it('records each proof in the replay store until it would be too old anyway', async () => {
      const calls: [string, number][] = [];
      const replayStore: ReplayStore = {
        checkAndSet: (key, ttl) => {
          calls.push([key, ttl]);
          return true;
        },
      };
      const s = await setup({ replayStore, dpop: { iatWindowSeconds: 60 } });
      const dpopKey = await makeDpopKey();
      const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
      const proof = await dpopProof(dpopKey, s.now() - 20, { accessToken: token, jti: 'proof-1' });
      await s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof }));
      expect(calls).toEqual([[`${dpopKey.jkt}.proof-1`, 41]]);
    });

    it('refuses a proof the store has seen', async () => {
      const s = await setup({ replayStore: { checkAndSet: async () => false } });
      const { req } = await boundRequest(s);
      const error = await rejection(s.server.verifyRequest(req));
      expect(error.reason).toBe('dpop_replay');
      expect(error.wwwAuthenticate).toContain('error="invalid_dpop_proof"');
    });

    it('refuses the proof when the store fails, keeping the failure as the cause', async () => {
      const failure = new Error('store down');
      const s = await setup({ replayStore: { checkAndSet: () => Promise.reject(failure) } });
      const { req } = await boundRequest(s);
      const error = await rejection(s.server.verifyRequest(req));
      expect(error.reason).toBe('dpop');
      expect(error.cause).toBe(failure);
    });

    it('does not record a proof that failed another check', async () => {
      const checkAndSet = vi.fn(() => true);
      const s = await setup({ replayStore: { checkAndSet } });
      const { token, proof } = await boundRequest(s, { method: 'POST' });
      await rejection(
        s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof })),
      );
      expect(checkAndSet).not.toHaveBeenCalled();
    });
  });

  describe('nonces', () => {
    it('asks for a nonce with use_dpop_nonce and a DPoP-Nonce value, then accepts it', async () => {
      const s = await setup({ dpop: { nonce: true } });
      const { req, dpopKey, token } = await boundRequest(s);
      const error = await rejection(s.server.verifyRequest(req));
      expect(error.reason).toBe('dpop_nonce');
      expect(error.status).toBe(401);
      expect(error.wwwAuthenticate).toMatch(
        /^DPoP error="use_dpop_nonce", error_description="[^"]+", algs="/,
      );
      expect(error.dpopNonce).toMatch(/^[A-Za-z0-9_-]{16,}$/);

      const retry = await dpopProof(dpopKey, s.now(), {
        accessToken: token,
        nonce: error.dpopNonce,
      });
      await expect(
        s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: retry })),
      ).resolves.toEqual(claimsOf(token));
    });

    it('refuses a wrong nonce', async () => {
      const s = await setup({ dpop: { nonce: true } });
      const dpopKey = await makeDpopKey();
      const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
      const proof = await dpopProof(dpopKey, s.now(), { accessToken: token, nonce: 'guessed' });
      expect(
        (
          await rejection(
            s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof })),
          )
        ).reason,
      ).toBe('dpop_nonce');
    });

    it('rotates the nonce, still accepting the previous one for one lifetime', async () => {
      const s = await setup({ dpop: { nonce: { lifetimeSeconds: 60 } } });
      const dpopKey = await makeDpopKey();
      const first = await rejection(s.server.verifyRequest((await boundRequest(s)).req));
      const nonce = first.dpopNonce!;

      const attempt = async () => {
        const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
        const proof = await dpopProof(dpopKey, s.now(), { accessToken: token, nonce });
        return s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof }));
      };
      s.clock.advance(61);
      await expect(attempt()).resolves.toMatchObject({
        iss: ISSUER,
        aud: AUDIENCE,
        cnf: { jkt: dpopKey.jkt },
      });
      s.clock.advance(60);
      const late = await rejection(attempt());
      expect(late.reason).toBe('dpop_nonce');
      expect(late.dpopNonce).not.toBe(nonce);
    });

    it('uses a nonce provider that is given', async () => {
      const provider = {
        current: () => 'shared-nonce',
        isValid: (nonce: string) => nonce === 'shared-nonce',
      };
      const s = await setup({ dpop: { nonce: provider } });
      const dpopKey = await makeDpopKey();
      const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
      const proof = await dpopProof(dpopKey, s.now(), {
        accessToken: token,
        nonce: 'shared-nonce',
      });
      await expect(
        s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof })),
      ).resolves.toEqual(claimsOf(token));
    });

    it('refuses the proof when the nonce provider fails or hands out an unsendable nonce', async () => {
      for (const provider of [
        { current: () => 'n', isValid: () => Promise.reject(new Error('down')) },
        { current: () => 'bad "nonce"', isValid: () => false },
      ]) {
        const s = await setup({ dpop: { nonce: provider } });
        const dpopKey = await makeDpopKey();
        const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
        const proof = await dpopProof(dpopKey, s.now(), { accessToken: token, nonce: 'n' });
        const error = await rejection(
          s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof })),
        );
        expect(error.reason).toBe('dpop');
        expect(error.dpopNonce).toBeUndefined();
      }
    });
  });
});
