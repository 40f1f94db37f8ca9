/**
 * DPoP (RFC 9449) on both sides.
 *
 * buildDpopProof: baseline = 1.00 is the `node:crypto` sign floor: a fresh jti, iat, the payload
 * serialised and base64url-encoded, one `crypto.sign` with a pre-imported key, the signature
 * encoded; the header is encoded once. Against jose `SignJWT` and oauth4webapi's DPoP handle.
 *
 * verifyRequest with a DPoP proof: baseline = 1.00 is a floor that verifies with cached,
 * pre-imported keys: decode and parse the proof, one `crypto.verify` of the proof, and, when the
 * tokens are distinct, one of the token and the parse of its payload. Against jose doing the same
 * job: `jwtVerify` of the token with a local JWK set, `jwtVerify` of the proof with
 * `EmbeddedJWK`, `calculateJwkThumbprint`, and the ath, htm, htu checks. Two cases: one token
 * reused with a fresh proof per request (what a DPoP client does), and a new token each time.
 */
import { Buffer } from 'node:buffer';
import { createHash, randomUUID, sign, verify } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  EmbeddedJWK,
  jwtVerify,
  SignJWT,
  type JWK,
} from 'jose';
import * as oauth from 'oauth4webapi';
import {
  AUDIENCE,
  ISSUER,
  JWKS_URI,
  RESOURCE_URL,
  accessToken,
  b64,
  loadBuilds,
  makeKey,
  memoryIdp,
  signJws,
  type SigningKey,
} from '../lib/fixtures.js';
import { assert, compare, size, suite, type Contender } from '../lib/harness.js';

const SIGN_BATCH = size(2000, 10);
const VERIFY_BATCH = size(1000, 10);
const ROUNDS = size(10, 1);
const WARMUP = size(2, 1);

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

interface DpopKey extends SigningKey {
  publicJwk: JWK;
  jkt: string;
  header: string;
}

async function dpopKey(alg: 'EdDSA' | 'ES256'): Promise<DpopKey> {
  const key = await makeKey(alg, 'dpop');
  const { kid: _kid, alg: _alg, use: _use, ...publicJwk } = key.jwk;
  return {
    ...key,
    publicJwk: publicJwk,
    jkt: await calculateJwkThumbprint(publicJwk, 'sha256'),
    header: b64(JSON.stringify({ typ: 'dpop+jwt', alg, jwk: publicJwk })),
  };
}

/** A proof as a client makes it, signed with `node:crypto` (inputs are made outside the timing). */
function proofFor(key: DpopKey, token: string): string {
  return signJws(
    key,
    { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk },
    {
      jti: randomUUID(),
      htm: 'GET',
      htu: RESOURCE_URL,
      iat: Math.floor(Date.now() / 1000),
      ath: sha256(token),
    },
  );
}

await suite('dpop', async (report) => {
  const builds = await loadBuilds();
  const issuerKey = await makeKey('RS256');
  const localJwks = createLocalJWKSet({ keys: [issuerKey.jwk] });

  for (const alg of ['EdDSA', 'ES256'] as const) {
    const key = await dpopKey(alg);
    const signOptions = { key: key.privateKey, ...key.options };
    const verifyOptions = { key: key.publicKey, ...key.options };
    const token = accessToken(issuerKey, { cnf: { jkt: key.jkt } });
    const ath = sha256(token);

    // ---- buildDpopProof --------------------------------------------------------------------
    const dpopPair = { privateKey: key.cryptoPrivateKey, publicKey: key.cryptoPublicKey };
    const clients = Object.fromEntries(
      (['node', 'web'] as const).map((build) => [
        build,
        builds[build].createAuthClient({
          tokenEndpoint: `${ISSUER}/token`,
          clientId: 'svc-billing-worker',
          clientSecret: 'secret',
          dpop: dpopPair,
          fetch: async () => new Response(null, { status: 500 }),
        }),
      ]),
    ) as Record<'node' | 'web', ReturnType<typeof builds.node.createAuthClient>>;
    const handle = oauth.DPoP(
      { client_id: 'svc-billing-worker' } as oauth.Client,
      dpopPair,
    ) as oauth.DPoPHandle & {
      addProof(url: URL, headers: Headers, htm: string, accessToken?: string): Promise<void>;
    };
    const resourceUrl = new URL(RESOURCE_URL);
    const isProof = (proof: unknown) => typeof proof === 'string' && proof.split('.').length === 3;
    const signers: Contender[] = [
      {
        name: 'node:crypto sign floor',
        run() {
          const payload = b64(
            JSON.stringify({
              jti: randomUUID(),
              htm: 'GET',
              htu: RESOURCE_URL,
              iat: Math.floor(Date.now() / 1000),
              ath,
            }),
          );
          const input = `${key.header}.${payload}`;
          return `${input}.${sign(key.digest, Buffer.from(input), signOptions).toString('base64url')}`;
        },
        check: isProof,
      },
      {
        name: 's2s-auth buildDpopProof, Node build',
        run: () =>
          clients.node.buildDpopProof({ htm: 'GET', htu: RESOURCE_URL, accessToken: token }),
        check: isProof,
      },
      {
        name: 's2s-auth buildDpopProof, default build',
        run: () =>
          clients.web.buildDpopProof({ htm: 'GET', htu: RESOURCE_URL, accessToken: token }),
        check: isProof,
      },
      {
        name: 'jose SignJWT (ath given)',
        run: () =>
          new SignJWT({ htm: 'GET', htu: RESOURCE_URL, ath, jti: randomUUID() })
            .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: key.publicJwk })
            .setIssuedAt()
            .sign(key.cryptoPrivateKey),
        check: isProof,
      },
      {
        name: 'oauth4webapi DPoP handle',
        async run() {
          const headers = new Headers();
          await handle.addProof(resourceUrl, headers, 'GET', token);
          return headers.get('dpop');
        },
        check: isProof,
      },
    ];
    report.comparisons.push(
      await compare({
        id: `dpop-sign-${alg}`,
        title: `buildDpopProof (with ath), ${alg}`,
        baseline: 'node:crypto sign floor',
        contenders: signers,
        batch: SIGN_BATCH,
        rounds: ROUNDS,
        warmup: WARMUP,
      }),
    );
    // The proofs are real: the SDK's own server accepts them.
    const check = builds.node.createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: JWKS_URI,
      fetch: memoryIdp([issuerKey]).fetch,
    });
    for (const client of Object.values(clients)) {
      const proof = await client.buildDpopProof({
        htm: 'GET',
        htu: RESOURCE_URL,
        accessToken: token,
      });
      await check.verifyRequest({
        method: 'GET',
        url: RESOURCE_URL,
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      });
    }

    // ---- verifyRequest ---------------------------------------------------------------------
    for (const tokens of ['repeated', 'distinct'] as const) {
      const servers = {
        node: builds.node.createResourceServer({
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUri: JWKS_URI,
          fetch: memoryIdp([issuerKey]).fetch,
        }),
        web: builds.web.createResourceServer({
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUri: JWKS_URI,
          fetch: memoryIdp([issuerKey]).fetch,
        }),
      };
      for (const server of Object.values(servers)) {
        await server.verifyRequest({
          method: 'GET',
          url: RESOURCE_URL,
          headers: { authorization: `DPoP ${token}`, dpop: proofFor(key, token) },
        });
      }
      let inputs: { token: string; proof: string }[] = [];
      const floorProof = (proof: string) => {
        const headerEnd = proof.indexOf('.');
        const payloadEnd = proof.indexOf('.', headerEnd + 1);
        JSON.parse(Buffer.from(proof.slice(0, headerEnd), 'base64url').toString());
        const valid = verify(
          key.digest,
          Buffer.from(proof.slice(0, payloadEnd), 'latin1'),
          verifyOptions,
          Buffer.from(proof.slice(payloadEnd + 1), 'base64url'),
        );
        return valid
          ? (JSON.parse(
              Buffer.from(proof.slice(headerEnd + 1, payloadEnd), 'base64url').toString(),
            ) as unknown)
          : undefined;
      };
      const floorToken = (text: string) => {
        const headerEnd = text.indexOf('.');
        const payloadEnd = text.indexOf('.', headerEnd + 1);
        const valid = verify(
          issuerKey.digest,
          Buffer.from(text.slice(0, payloadEnd), 'latin1'),
          { key: issuerKey.publicKey },
          Buffer.from(text.slice(payloadEnd + 1), 'base64url'),
        );
        return valid
          ? (JSON.parse(
              Buffer.from(text.slice(headerEnd + 1, payloadEnd), 'base64url').toString(),
            ) as unknown)
          : undefined;
      };
      const request = (i: number) => {
        const input = inputs[i] as { token: string; proof: string };
        return {
          method: 'GET',
          url: RESOURCE_URL,
          headers: { authorization: `DPoP ${input.token}`, dpop: input.proof },
        };
      };
      const isClaims = (claims: unknown) =>
        (claims as { cnf?: { jkt?: string } } | undefined)?.cnf?.jkt === key.jkt;
      const verifiers: Contender[] = [
        {
          name:
            tokens === 'repeated'
              ? 'floor: verify the proof (cached key)'
              : 'floor: verify token and proof (cached keys)',
          run(i) {
            const input = inputs[i] as { token: string; proof: string };
            const proof = floorProof(input.proof);
            if (tokens === 'repeated')
              return proof === undefined ? undefined : { cnf: { jkt: key.jkt } };
            return proof === undefined ? undefined : floorToken(input.token);
          },
          check: isClaims,
        },
        {
          name: 's2s-auth verifyRequest, Node build',
          run: (i) => servers.node.verifyRequest(request(i)),
          check: isClaims,
        },
        {
          name: 's2s-auth verifyRequest, default build',
          run: (i) => servers.web.verifyRequest(request(i)),
          check: isClaims,
        },
        {
          name: 'jose: jwtVerify ×2 + thumbprint + ath',
          async run(i) {
            const input = inputs[i] as { token: string; proof: string };
            const { payload: claims } = await jwtVerify(input.token, localJwks, {
              issuer: ISSUER,
              audience: AUDIENCE,
              typ: 'at+jwt',
              algorithms: ['RS256'],
            });
            const { payload, protectedHeader } = await jwtVerify(input.proof, EmbeddedJWK, {
              typ: 'dpop+jwt',
              algorithms: [alg],
              maxTokenAge: 60,
            });
            const digest = new Uint8Array(
              await crypto.subtle.digest('SHA-256', new TextEncoder().encode(input.token)),
            );
            const jkt = (claims as { cnf?: { jkt?: string } }).cnf?.jkt;
            if (
              payload.htm !== 'GET' ||
              payload.htu !== RESOURCE_URL ||
              typeof payload.jti !== 'string' ||
              payload.ath !== Buffer.from(digest).toString('base64url') ||
              (await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256')) !== jkt
            ) {
              throw new Error('jose contender: proof refused');
            }
            return claims;
          },
          check: isClaims,
        },
      ];
      report.comparisons.push(
        await compare({
          id: `dpop-verify-${tokens}-${alg}`,
          title: `verifyRequest with a DPoP proof (${alg}), ${tokens === 'repeated' ? 'one token reused, fresh proofs' : 'a new token (RS256) each time'}`,
          baseline: verifiers[0]!.name,
          contenders: verifiers,
          batch: VERIFY_BATCH,
          rounds: ROUNDS,
          warmup: WARMUP,
          prepareRound() {
            inputs = Array.from({ length: VERIFY_BATCH }, () => {
              const bound =
                tokens === 'repeated' ? token : accessToken(issuerKey, { cnf: { jkt: key.jkt } });
              return { token: bound, proof: proofFor(key, bound) };
            });
          },
          notes: [
            's2s-auth checks everything RFC 9449 §4.3 asks, a jti replay store included; the jose contender has no replay store.',
            ...(tokens === 'repeated'
              ? [
                  'The floor verifies only the proof: a reused token needs no second signature check by anyone.',
                ]
              : []),
          ],
        }),
      );
      // Every proof was used once per server; using one again must fail as a replay.
      const replayed = await servers.node.verifyRequest(request(0)).then(
        () => 'accepted',
        (error: unknown) => (error as { reason?: string }).reason,
      );
      assert(replayed === 'dpop_replay', `a replayed proof is refused (got ${replayed})`);
    }
  }
});
