/**
 * verifyToken on distinct tokens: every operation verifies a token never seen before (new
 * tokens each round), so no contender's cache can help. RS256, ES256 and EdDSA, a realistic
 * RFC 9068 payload, the issuer's keys from an in-memory JWKS behind an injected `fetch`.
 *
 * Floor = 1.00: `node:crypto` verify of the signing input with a pre-imported key, plus the
 * base64url decode and JSON.parse of the payload, and nothing else.
 */
import { Buffer } from 'node:buffer';
import { verify } from 'node:crypto';
import { JwtVerifier } from 'aws-jwt-verify';
import { createVerifier } from 'fast-jwt';
import { createLocalJWKSet, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import {
  ALGS,
  AUDIENCE,
  ISSUER,
  JWKS_URI,
  accessToken,
  loadBuilds,
  makeKeys,
  memoryIdp,
} from '../lib/fixtures.js';
import { assert, compare, size, suite, type Contender } from '../lib/harness.js';

// Many short rounds: on a noisy machine the median of many close pairs is steadier than a few
// long runs. 40 × 500 = 20,000 distinct tokens per algorithm and contender.
const BATCH = size(500, 20);
const ROUNDS = size(40, 1);
const WARMUP = size(4, 1);

await suite('verify-distinct', async (report) => {
  const builds = await loadBuilds();
  const keys = await makeKeys();
  const jwks = { keys: Object.values(keys).map((key) => key.jwk) };
  const localJwks = createLocalJWKSet(jwks);

  for (const alg of ALGS) {
    const key = keys[alg];
    let tokens: string[] = [];
    const servers = Object.fromEntries(
      (['node', 'web'] as const).map((build) => {
        const idp = memoryIdp(Object.values(keys));
        return [
          build,
          builds[build].createResourceServer({
            issuer: ISSUER,
            audience: AUDIENCE,
            jwksUri: JWKS_URI,
            fetch: idp.fetch,
          }),
        ];
      }),
    ) as Record<'node' | 'web', ReturnType<typeof builds.node.createResourceServer>>;
    // Fetch the key set once, outside the timing, as a running server has it.
    for (const server of Object.values(servers)) await server.verifyToken(accessToken(key));

    const fast: (token: string) => unknown = createVerifier({
      key: key.pem,
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      checkTyp: 'at+jwt',
      cache: false,
    });
    const aws = JwtVerifier.create({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI });
    aws.cacheJwks(jwks as never);

    const floorOptions = { key: key.publicKey, ...key.options };
    const encoder = new TextEncoder();
    const sub = (claims: unknown) =>
      (claims as { sub?: string } | undefined)?.sub === 'svc-billing-worker';

    const contenders: Contender[] = [
      {
        name: 'node:crypto floor',
        run(i) {
          const token = tokens[i]!;
          const headerEnd = token.indexOf('.');
          const payloadEnd = token.indexOf('.', headerEnd + 1);
          const valid = verify(
            key.digest,
            Buffer.from(token.slice(0, payloadEnd), 'latin1'),
            floorOptions,
            Buffer.from(token.slice(payloadEnd + 1), 'base64url'),
          );
          return valid
            ? (JSON.parse(
                Buffer.from(token.slice(headerEnd + 1, payloadEnd), 'base64url').toString(),
              ) as unknown)
            : undefined;
        },
        check: sub,
      },
      {
        name: 's2s-auth, Node build',
        run: (i) => servers.node.verifyToken(tokens[i]!),
        check: sub,
      },
      {
        name: 's2s-auth, default build (WebCrypto)',
        run: (i) => servers.web.verifyToken(tokens[i]!),
        check: sub,
      },
      {
        name: 'bare WebCrypto floor',
        async run(i) {
          const token = tokens[i]!;
          const headerEnd = token.indexOf('.');
          const payloadEnd = token.indexOf('.', headerEnd + 1);
          const valid = await crypto.subtle.verify(
            key.webcrypto,
            key.cryptoPublicKey,
            Buffer.from(token.slice(payloadEnd + 1), 'base64url'),
            encoder.encode(token.slice(0, payloadEnd)),
          );
          return valid
            ? (JSON.parse(
                Buffer.from(token.slice(headerEnd + 1, payloadEnd), 'base64url').toString(),
              ) as unknown)
            : undefined;
        },
        check: sub,
      },
      {
        name: 'jose jwtVerify (local JWK set)',
        run: async (i) =>
          (
            await jwtVerify(tokens[i]!, localJwks, {
              issuer: ISSUER,
              audience: AUDIENCE,
              typ: 'at+jwt',
              algorithms: [alg],
            })
          ).payload,
        check: sub,
      },
      { name: 'fast-jwt createVerifier', run: (i) => fast(tokens[i]!), check: sub },
      {
        name: 'aws-jwt-verify (cached JWKS, verifySync)',
        run: (i) => aws.verifySync(tokens[i]!),
        check: sub,
      },
      {
        name: 'jsonwebtoken verify',
        run: (i) =>
          jsonwebtoken.verify(tokens[i]!, key.publicKey, {
            algorithms: [alg as 'RS256'],
            issuer: ISSUER,
            audience: AUDIENCE,
          }),
        check: sub,
        ...(alg === 'EdDSA' ? { skip: 'no EdDSA support' } : {}),
      },
    ];

    report.comparisons.push(
      await compare({
        id: `verify-distinct-${alg}`,
        title: `verifyToken, distinct tokens, ${alg}`,
        baseline: 'node:crypto floor',
        contenders,
        batch: BATCH,
        rounds: ROUNDS,
        warmup: WARMUP,
        prepareRound() {
          tokens = Array.from({ length: BATCH }, () => accessToken(key));
          assert(new Set(tokens).size === BATCH, 'tokens are distinct');
        },
        notes: [
          'fast-jwt, aws-jwt-verify and jsonwebtoken run synchronously, each with its fastest API; jose and s2s-auth are awaited.',
          'Every contender checks the signature, iss, aud and exp; jose, fast-jwt and s2s-auth also check typ at+jwt.',
        ],
      }),
    );
  }
});
