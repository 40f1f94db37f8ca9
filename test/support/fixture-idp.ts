/**
 * An IdP fixture brought to life: keys generated for each member of its key set, its discovery
 * document and key set served through an injected `fetch` at the URLs it names, its JWTs signed
 * with those keys at times relative to a manual clock, and the resource-server options its
 * `docs/idps/<name>.md` page gives.
 */
import { exportJWK, generateKeyPair } from 'jose';
import type { ResourceServerOptions } from '../../src/server.js';
import type { FetchLike } from '../../src/runtime/shared/options.js';
import { oauthMetadataUrl, openIdConfigurationUrl } from '../../src/runtime/transport/discovery.js';
import { withTimes, type IdpFixture, type JwtFixture } from '../fixtures/idps/index.js';
import { hmacJws, signJws } from '../runtime/server/helpers.js';
import { manualClock, type ManualClock } from './clock.js';

/** 2026-11-23T12:00:00Z. */
const START = new Date(Date.UTC(2026, 10, 23, 12, 0, 0));

export interface FixtureIdp {
  fixture: IdpFixture;
  fetch: FetchLike;
  clock: ManualClock;
  /** Every URL fetched, in order. */
  urls: string[];
  /** The fixture's JWT, its times made absolute now, signed as its header says. */
  sign(jwt: JwtFixture): Promise<string>;
  /** `createResourceServer` options as the IdP's page configures it, with this fetch and clock. */
  options(): ResourceServerOptions;
}

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

const generated = new Map<string, Promise<KeyPair>>();

/** One key pair per kid and algorithm family, made once per test file. */
function keyPair(kty: unknown, name: string): Promise<KeyPair> {
  const alg = kty === 'EC' ? 'ES256' : 'RS256';
  const id = `${alg}:${name}`;
  let pair = generated.get(id);
  if (pair === undefined) {
    pair = generateKeyPair(alg, { extractable: true });
    generated.set(id, pair);
  }
  return pair;
}

export async function fixtureIdp(fixture: IdpFixture): Promise<FixtureIdp> {
  const clock = manualClock(START);
  const privateKeys = new Map<string, CryptoKey>();
  const keys: Record<string, unknown>[] = [];
  for (const member of fixture.jwks.keys) {
    const { privateKey, publicKey } = await keyPair(member.kty, String(member.kid));
    const { kty: _kty, ...material } = await exportJWK(publicKey);
    keys.push({ ...member, ...material });
    privateKeys.set(String(member.kid), privateKey);
  }
  const issuer = fixture.discovery.issuer as string;
  const urls: string[] = [];
  const fetch: FetchLike = async (input) => {
    urls.push(input.url);
    if (input.url === fixture.discovery.jwks_uri) return Response.json({ keys });
    // The fixtures are OpenID Connect documents: no RFC 8414 document, a 404 as the IdPs answer.
    if (input.url === openIdConfigurationUrl(issuer)) return Response.json(fixture.discovery);
    if (input.url === oauthMetadataUrl(issuer)) return new Response('Not Found', { status: 404 });
    return new Response('Not Found', { status: 404 });
  };

  async function sign(jwt: JwtFixture): Promise<string> {
    const header = { ...jwt.header };
    const payload = withTimes(jwt.payload, clock.seconds());
    const alg = String(header.alg);
    if (alg.startsWith('HS')) {
      return hmacJws(header, payload, crypto.getRandomValues(new Uint8Array(32)), alg as 'HS256');
    }
    // A JWT whose kid the key set does not publish is signed by a key of its own issuer.
    const known = typeof header.kid === 'string' ? privateKeys.get(header.kid) : undefined;
    const key =
      known ??
      (await keyPair(alg.startsWith('ES') ? 'EC' : 'RSA', `unpublished:${String(header.kid)}`))
        .privateKey;
    return signJws(header, payload, key, alg);
  }

  function options(): ResourceServerOptions {
    const { issuer: configured, audience, clientIds, tenants, jwksUri } = fixture.resourceServer;
    return {
      profile: fixture.profile,
      issuer: configured,
      audience,
      ...(clientIds === undefined ? {} : { clientIds }),
      ...(tenants === undefined ? {} : { tenants }),
      ...(jwksUri === undefined ? {} : { jwksUri }),
      fetch,
      now: clock.now,
    };
  }

  return { fixture, fetch, clock, urls, sign, options };
}
