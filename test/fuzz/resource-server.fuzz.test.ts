/**
 * Property-based tests: random mutations of valid access tokens and DPoP proofs are never
 * accepted, and whatever the input, the only thing thrown is a TokenError.
 *
 * The default run is sized for CI (a few thousand cases, well under 30 s on two cores). Set
 * FUZZ_RUNS to run every property that many times instead (`npm run fuzz`).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenError, type ResourceServer } from '../../src/index.js';
import { encodeBase64url as base64url } from '../../src/runtime/crypto/backend.js';
import {
  RESOURCE_URL,
  accessToken,
  dpopProof,
  hmacJws,
  makeDpopKey,
  makeKey,
  request,
  setup,
  signParts,
  type DpopKey,
  type Setup,
  type TestKey,
} from '../runtime/server/helpers.js';

const override = Number(process.env.FUZZ_RUNS ?? '');
const fuzzing = Number.isInteger(override) && override > 0;
function runs(byDefault: number): number {
  return fuzzing ? override : byDefault;
}
function timeout(byDefault: number): number {
  return 30_000 + runs(byDefault) * 10;
}

let s: Setup;
let server: ResourceServer;
let issuerKeys: TestKey[];
let foreignKeys: TestKey[];
let validTokens: string[];
/** Other valid tokens by the same keys, for splicing parts across tokens. */
let donorTokens: string[];
let dpopKey: DpopKey;
let thiefKey: DpopKey;
let boundToken: string;
let validProof: string;

beforeAll(async () => {
  issuerKeys = [
    await makeKey('ES256', 'ec-1'),
    await makeKey('RS256', 'rsa-1'),
    await makeKey('EdDSA', 'ed-1'),
  ];
  foreignKeys = [
    await makeKey('ES256', 'ec-1'),
    await makeKey('RS256', 'rsa-1'),
    await makeKey('EdDSA', 'unknown'),
    await makeKey('ES384', 'ec-1'),
  ];
  s = await setup(
    { jwksCooldownSeconds: 30 },
    { key: issuerKeys[0], published: issuerKeys.map((key) => key.jwk) },
  );
  server = s.server;
  validTokens = await Promise.all(issuerKeys.map((key) => accessToken(key, s.now())));
  donorTokens = await Promise.all(
    issuerKeys.map((key) => accessToken(key, s.now(), { scope: 'orders:admin' })),
  );
  dpopKey = await makeDpopKey('ES256');
  thiefKey = await makeDpopKey('ES256');
  boundToken = await accessToken(issuerKeys[0]!, s.now(), { cnf: { jkt: dpopKey.jkt } });
  validProof = await dpopProof(dpopKey, s.now(), { accessToken: boundToken });
});

/** Resolves to what verification threw, or 'accepted'. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (error: unknown) => error,
  );
}

function assertRejected(result: unknown): void {
  if (result === 'accepted') throw new Error('a mutated token or proof was accepted');
  if (!(result instanceof TokenError))
    throw new Error(`threw something other than a TokenError: ${String(result)}`);
  // 400 only for several credentials (RFC 6750 §3.1 invalid_request); never 503 here: the
  // key set is up, and no request may make it look otherwise.
  const expected =
    result.reason === 'duplicate_credentials' ? [400] : result.reason === 'scope' ? [403] : [401];
  if (!expected.includes(result.status))
    throw new Error(`unexpected status ${result.status} for reason ${result.reason}`);
  if (!/^(Bearer|DPoP)([ ,]|$)/.test(result.wwwAuthenticate))
    throw new Error('no usable WWW-Authenticate value');
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A part's JSON object, or an empty one when an earlier mutation broke it. */
function decodeJson(part: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const headerValue = fc.oneof(
  fc.constantFrom(
    'none',
    'None',
    'HS256',
    'HS384',
    'HS512',
    'RS256',
    'PS256',
    'ES256',
    'ES384',
    'EdDSA',
    'Ed25519',
    'JWT',
    'at+jwt',
    'dpop+jwt',
    'ec-1',
    'rsa-1',
    'ed-1',
    'https://evil.example.test/jwks',
  ),
  fc.constant(['b64']),
  fc.constant(false),
  fc.jsonValue({ maxDepth: 2 }),
);

const claimValue = fc.oneof(
  fc.constantFrom(
    'https://idp.example.test/',
    'https://evil.example.test',
    'orders:admin',
    '9999999999',
  ),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

type Mutation =
  | { kind: 'flip'; at: number; char: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'swap'; order: readonly number[] }
  | {
      kind: 'parts';
      op:
        | 'drop-first'
        | 'drop-last'
        | 'repeat-first'
        | 'repeat-last'
        | 'empty-signature'
        | 'trailing-dot';
    }
  | { kind: 'header'; name: string; value: unknown; remove: boolean }
  | { kind: 'claim'; name: string; value: unknown; remove: boolean }
  | { kind: 'resign'; key: number; header?: { name: string; value: unknown } | undefined }
  | { kind: 'hmac'; alg: 'HS256' | 'HS384' | 'HS512'; secret: number }
  | { kind: 'splice'; from: number; part: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    char: fc.integer({ min: 0, max: 0x24f }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant('swap' as const),
    order: fc.constantFrom([1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0], [2, 0, 1]),
  }),
  fc.record({
    kind: fc.constant('parts' as const),
    op: fc.constantFrom(
      'drop-first',
      'drop-last',
      'repeat-first',
      'repeat-last',
      'empty-signature',
      'trailing-dot',
    ),
  }),
  fc.record({
    kind: fc.constant('header' as const),
    name: fc.constantFrom(
      'alg',
      'typ',
      'kid',
      'crit',
      'b64',
      'jwk',
      'jku',
      'x5u',
      'x5c',
      'cty',
      'zip',
      'enc',
    ),
    value: headerValue,
    remove: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('claim' as const),
    name: fc.constantFrom(
      'iss',
      'aud',
      'exp',
      'nbf',
      'iat',
      'scope',
      'cnf',
      'sub',
      'client_id',
      'jti',
      'htm',
      'htu',
      'ath',
    ),
    value: claimValue,
    remove: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('resign' as const),
    key: fc.nat({ max: 3 }),
    header: fc.option(
      fc.record({ name: fc.constantFrom('alg', 'kid', 'typ', 'jwk'), value: headerValue }),
      {
        nil: undefined,
      },
    ),
  }),
  fc.record({
    kind: fc.constant('hmac' as const),
    alg: fc.constantFrom('HS256' as const, 'HS384' as const, 'HS512' as const),
    secret: fc.nat({ max: 2 }),
  }),
  fc.record({
    kind: fc.constant('splice' as const),
    from: fc.nat({ max: 2 }),
    part: fc.nat({ max: 2 }),
  }),
);

function edit(
  json: Record<string, unknown>,
  name: string,
  value: unknown,
  remove: boolean,
): Record<string, unknown> {
  const copy = { ...json };
  if (remove) delete copy[name];
  else copy[name] = value;
  return copy;
}

async function mutate(original: string, m: Mutation, donors: readonly string[]): Promise<string> {
  const parts = original.split('.') as [string, string, string];
  const [header, payload, signature] = parts;
  switch (m.kind) {
    case 'flip': {
      const at = m.at % original.length;
      const char = m.char < 64 ? alphabet[m.char] : String.fromCharCode(m.char);
      return `${original.slice(0, at)}${char}${original.slice(at + 1)}`;
    }
    case 'truncate':
      return original.slice(0, m.at % original.length);
    case 'insert': {
      const at = m.at % (original.length + 1);
      return `${original.slice(0, at)}${m.text}${original.slice(at)}`;
    }
    case 'swap':
      return m.order.map((index) => parts[index]).join('.');
    case 'parts':
      switch (m.op) {
        case 'drop-first':
          return `${payload}.${signature}`;
        case 'drop-last':
          return `${header}.${payload}`;
        case 'repeat-first':
          return `${header}.${original}`;
        case 'repeat-last':
          return `${original}.${signature}`;
        case 'empty-signature':
          return `${header}.${payload}.`;
        case 'trailing-dot':
          return `${original}.`;
      }
      break;
    case 'header':
      return `${base64url(JSON.stringify(edit(decodeJson(header), m.name, m.value, m.remove)))}.${payload}.${signature}`;
    case 'claim':
      return `${header}.${base64url(JSON.stringify(edit(decodeJson(payload), m.name, m.value, m.remove)))}.${signature}`;
    case 'resign': {
      const key = foreignKeys[m.key]!;
      let decoded = { ...decodeJson(header), alg: key.alg };
      if (m.header) decoded = { ...decoded, [m.header.name]: m.header.value };
      const alg = typeof decoded.alg === 'string' ? decoded.alg : key.alg;
      try {
        return await signParts(base64url(JSON.stringify(decoded)), payload, key.privateKey, alg);
      } catch {
        // An alg the key cannot sign with: the header says one thing, the signature another.
        return signParts(base64url(JSON.stringify(decoded)), payload, key.privateKey, key.alg);
      }
    }
    case 'hmac': {
      const key = issuerKeys[m.secret]!;
      const secret = new TextEncoder().encode(JSON.stringify(key.jwk));
      return hmacJws({ ...decodeJson(header), alg: m.alg }, decodeJson(payload), secret, m.alg);
    }
    case 'splice': {
      const donor = donors[m.from]!.split('.');
      const copy = [...parts];
      copy[m.part] = donor[m.part]!;
      return copy.join('.');
    }
  }
  return original;
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing verifyToken', () => {
  it('accepts the unmutated tokens (the baseline the mutations start from)', async () => {
    for (const token of validTokens) {
      const [, payload = ''] = token.split('.');
      const minted = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object;
      await expect(server.verifyToken(token)).resolves.toEqual(minted);
    }
  });

  it(
    'never accepts a mutated token, and rejects it with a TokenError',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: 2 }),
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          async (which, steps) => {
            const original = validTokens[which]!;
            let token = original;
            for (const step of steps) token = await mutate(token, step, donorTokens);
            // Splicing every part of one donor rebuilds that donor, a genuine token.
            fc.pre(token !== original && !donorTokens.includes(token));
            assertRejected(await outcome(server.verifyToken(token)));
          },
        ),
        { numRuns: runs(6000) },
      );
    },
    timeout(6000),
  );

  it(
    'rejects arbitrary input with a TokenError',
    async () => {
      const segment = fc.oneof(
        fc.string(),
        fc
          .base64String()
          .map((text) => text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
        fc.jsonValue().map((value) => base64url(JSON.stringify(value) ?? 'null')),
        fc
          .dictionary(
            fc.constantFrom('alg', 'typ', 'kid', 'crit', 'b64', 'jwk', 'exp', 'iss'),
            fc.jsonValue({ maxDepth: 1 }),
          )
          .map((value) => base64url(JSON.stringify(value))),
      );
      const input = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.array(segment, { minLength: 1, maxLength: 6 }).map((segments) => segments.join('.')),
        fc.anything(),
      );
      await fc.assert(
        fc.asyncProperty(input, async (value) => {
          assertRejected(await outcome(server.verifyToken(value as string)));
        }),
        { numRuns: runs(2500) },
      );
    },
    timeout(2500),
  );
});

describe('fuzzing verifyRequest', () => {
  const otherMethod = fc.constantFrom(
    'POST',
    'PUT',
    'DELETE',
    'PATCH',
    'HEAD',
    'get',
    'Get',
    '',
    'GET ',
  );
  const proofMutation: fc.Arbitrary<
    Mutation | { kind: 'semantic'; name: string; value: unknown } | { kind: 'thief' }
  > = fc.oneof(
    { weight: 4, arbitrary: mutation },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.record({
          kind: fc.constant('semantic' as const),
          name: fc.constant('htm'),
          value: otherMethod,
        }),
        fc.record({
          kind: fc.constant('semantic' as const),
          name: fc.constant('iat'),
          value: fc.oneof(
            fc.integer({ min: 61, max: 10 ** 6 }).map((d) => -d),
            fc.integer({ min: 31, max: 10 ** 6 }),
          ),
        }),
        fc.record({
          kind: fc.constant('semantic' as const),
          name: fc.constant('ath'),
          value: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => base64url(bytes)),
        }),
        fc.record({
          kind: fc.constant('semantic' as const),
          name: fc.constant('htu'),
          value: fc.webUrl().filter((url) => !url.includes('api.example.test')),
        }),
        fc.record({
          kind: fc.constant('semantic' as const),
          name: fc.constant('typ'),
          value: fc.constantFrom('JWT', 'at+jwt', 'dpop', 'application/jwt', ''),
        }),
      ),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'thief' as const }) },
  );

  async function mutateProof(
    m: Mutation | { kind: 'semantic'; name: string; value: unknown } | { kind: 'thief' },
  ): Promise<string> {
    if (m.kind === 'thief') return dpopProof(thiefKey, s.now(), { accessToken: boundToken });
    if (m.kind === 'semantic') {
      // Re-signed by the genuine key, so only the altered member can make it fail.
      if (m.name === 'typ')
        return dpopProof(dpopKey, s.now(), { accessToken: boundToken, header: { typ: m.value } });
      if (m.name === 'iat')
        return dpopProof(dpopKey, s.now(), {
          accessToken: boundToken,
          iat: s.now() + (m.value as number),
        });
      return dpopProof(dpopKey, s.now(), {
        accessToken: boundToken,
        claims: { [m.name]: m.value },
      });
    }
    return mutate(validProof, m, [validProof, validProof, validProof]);
  }

  it(
    'never accepts a mutated DPoP proof, and rejects it with a TokenError',
    async () => {
      await fc.assert(
        fc.asyncProperty(proofMutation, async (m) => {
          const proof = await mutateProof(m);
          fc.pre(proof !== validProof);
          // A plain object: a Fetch API Headers object would refuse some mutated bytes itself.
          const headers = { authorization: `DPoP ${boundToken}`, dpop: proof };
          assertRejected(
            await outcome(server.verifyRequest({ method: 'GET', url: RESOURCE_URL, headers })),
          );
        }),
        { numRuns: runs(4000) },
      );
    },
    timeout(4000),
  );

  it(
    'never accepts a valid proof for another method or URL',
    async () => {
      const target = fc.oneof(
        // `get` would be upper-cased by the Request constructor, making it the same request.
        fc.record({
          method: otherMethod.filter(
            (method) => /^[A-Za-z]+$/.test(method) && method.toUpperCase() !== 'GET',
          ),
          url: fc.constant(RESOURCE_URL),
        }),
        fc.record({
          method: fc.constant('GET'),
          url: fc
            .oneof(
              fc.webPath().filter((path) => path !== '/orders/42' && path !== ''),
              fc.constantFrom(
                '/orders/42/',
                '/Orders/42',
                '/orders/43',
                '/orders/42/..',
                '/orders',
              ),
            )
            .map((path) => `https://api.example.test${path.startsWith('/') ? '' : '/'}${path}`),
        }),
        fc.record({
          method: fc.constant('GET'),
          url: fc.constantFrom(
            'http://api.example.test/orders/42',
            'https://api.example.test:8443/orders/42',
            'https://evil.example.test/orders/42',
          ),
        }),
      );
      await fc.assert(
        fc.asyncProperty(target, async ({ method, url }) => {
          let normalised: string;
          try {
            const parsed = new URL(url);
            normalised = `${parsed.origin}${parsed.pathname}`;
          } catch {
            normalised = url;
          }
          fc.pre(method !== 'GET' || normalised !== RESOURCE_URL);
          const req = request(
            { authorization: `DPoP ${boundToken}`, dpop: validProof },
            { method, url },
          );
          assertRejected(await outcome(server.verifyRequest(req)));
        }),
        { numRuns: runs(800) },
      );
    },
    timeout(800),
  );

  it(
    'rejects arbitrary Authorization and DPoP headers with a TokenError',
    async () => {
      const headerText = fc.oneof(
        fc.string({ maxLength: 300 }),
        fc
          .constantFrom('Bearer ', 'DPoP ', 'bearer ', 'Basic ')
          .chain((scheme) => fc.string({ maxLength: 300 }).map((rest) => `${scheme}${rest}`)),
        fc.constant(`DPoP ${boundToken}`),
      );
      await fc.assert(
        fc.asyncProperty(
          headerText,
          fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
          async (authorization, dpop) => {
            const headers: Record<string, string> = { authorization };
            if (dpop !== undefined) headers.dpop = dpop;
            assertRejected(
              await outcome(server.verifyRequest({ method: 'GET', url: RESOURCE_URL, headers })),
            );
          },
        ),
        { numRuns: runs(1500) },
      );
    },
    timeout(1500),
  );
});
