/**
 * verifyToken on one repeated token: the common case, a caller reusing its token for minutes.
 * Each operation gets a fresh copy of the same token string, as a server does when the token
 * arrives in a new request (so no contender profits from a string hash V8 computed before).
 *
 * Baseline = 1.00: fast-jwt with its cache on (it hashes the token and keeps the result).
 */
import { createVerifier } from 'fast-jwt';
import { createLocalJWKSet, jwtVerify } from 'jose';
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
import { compare, freshCopies, size, suite, type Contender } from '../lib/harness.js';

const BATCH = size(2000, 20);
const ROUNDS = size(20, 1);
const WARMUP = size(3, 1);

await suite('verify-repeated', async (report) => {
  const builds = await loadBuilds();
  const keys = await makeKeys();
  const jwks = { keys: Object.values(keys).map((key) => key.jwk) };
  const localJwks = createLocalJWKSet(jwks);

  for (const alg of ALGS) {
    const key = keys[alg];
    const token = accessToken(key);
    const copies = freshCopies(token, BATCH);
    const servers = {
      node: builds.node.createResourceServer({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUri: JWKS_URI,
        fetch: memoryIdp(Object.values(keys)).fetch,
      }),
      web: builds.web.createResourceServer({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUri: JWKS_URI,
        fetch: memoryIdp(Object.values(keys)).fetch,
      }),
    };
    const fastCached: (token: string) => unknown = createVerifier({
      key: key.pem,
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      checkTyp: 'at+jwt',
      cache: true,
    });
    const sub = (claims: unknown) =>
      (claims as { sub?: string } | undefined)?.sub === 'svc-billing-worker';

    const contenders: Contender[] = [
      { name: 'fast-jwt, cache on', run: (i) => fastCached(copies[i]!), check: sub },
      {
        name: 's2s-auth, Node build',
        run: (i) => servers.node.verifyToken(copies[i]!),
        check: sub,
      },
      {
        name: 's2s-auth, default build (WebCrypto)',
        run: (i) => servers.web.verifyToken(copies[i]!),
        check: sub,
      },
      {
        name: 'jose jwtVerify (no cache)',
        run: async (i) =>
          (
            await jwtVerify(copies[i]!, localJwks, {
              issuer: ISSUER,
              audience: AUDIENCE,
              typ: 'at+jwt',
              algorithms: [alg],
            })
          ).payload,
        check: sub,
      },
    ];

    report.comparisons.push(
      await compare({
        id: `verify-repeated-${alg}`,
        title: `verifyToken, one repeated token, ${alg}`,
        baseline: 'fast-jwt, cache on',
        contenders,
        batch: BATCH,
        rounds: ROUNDS,
        warmup: WARMUP,
        notes: [
          's2s-auth re-checks exp/nbf/iat on its clock, the audience, and that the key set still has the verifying key on every hit; the claims are a fresh copy each time.',
        ],
      }),
    );
  }
});
