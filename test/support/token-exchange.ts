/**
 * The test IdP of test/support/idp.ts with two secretless additions, both real oidc-provider
 * behaviour over HTTP on 127.0.0.1:
 *
 * - **Token exchange (RFC 8693)**: a grant handler for
 *   `urn:ietf:params:oauth:grant-type:token-exchange` registered with
 *   `provider.registerGrantType`. It verifies the subject token (and actor token) as JWT access
 *   tokens this same IdP issued (signature against its keys, `iss`, `exp`), and issues an
 *   RFC 9068 access token for the requested `audience` or `resource` with an `act` claim naming
 *   the acting party (RFC 8693 §4.1), bound to the DPoP key when the request carries a proof.
 *   Its errors are those of RFC 8693 §2.2.2: `invalid_request` for a bad or missing subject or
 *   actor token, `invalid_target` for an audience it does not know.
 * - **Workload identity federation**: a client registered with `private_key_jwt` whose `jwks`
 *   is the public key of a "workload issuer" (the part a Kubernetes API server, Entra's
 *   federation or Keycloak's federated client authentication plays). The test signs an
 *   assertion with that issuer's key, as the platform would, and the client sends it as it is.
 *
 * @example
 * ```ts
 * const idp = await startTokenExchangeIdp();
 * const assertion = await idp.workload.assertion();
 * const subject = await mintAccessToken(idp, { client: EXCHANGE_CLIENTS.frontend });
 * ```
 */
import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import {
  exchangeTargets,
  loadDpopValidator,
  registerTokenExchangeGrant,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchangeContext,
} from '../../src/cli/token-exchange-grant.js';
import {
  basicAuthorization,
  publicJwk,
  RESOURCES,
  startIdp,
  type RawTokenResponse,
  type StartIdpOptions,
  type TestIdp,
} from './idp.js';

const { errors } = await import('oidc-provider');
// oidc-provider's own DPoP proof check (signature, htm, htu, iat, nonce), as its built-in grants
// use it.
const validateDpop = await loadDpopValidator();

export { TOKEN_EXCHANGE_GRANT };

/** RFC 8693 §3 token type URIs the harness knows. */
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
} as const;

/**
 * Logical audiences (RFC 8693 `audience`) the exchange issues tokens for, besides the resource
 * indicators of {@link RESOURCES}. Anything else is `invalid_target`.
 */
export const EXCHANGE_AUDIENCES = {
  ledger: 'ledger-api',
  billing: 'billing-api',
} as const;

/** Clients of the exchange IdP, registered beside the usual {@link CLIENTS}. */
export const EXCHANGE_CLIENTS = {
  /** A front service that gets client-credentials tokens: their `sub` is its client id. */
  frontend: {
    clientId: 'web-frontend',
    clientSecret: 'fr0nt:end+secret %-5e6f',
    clientAuth: 'client_secret_basic',
  },
  /** The service that exchanges the tokens it receives for downstream ones. */
  exchanger: {
    clientId: 'orders-api',
    clientSecret: 'exch4nge:orders+ %-8c2d',
    clientAuth: 'client_secret_basic',
  },
} as const;

/** The workload-identity client and the issuer whose key it trusts. */
export interface WorkloadIdentity {
  /** The client's id: the `iss` and `sub` its assertions carry (RFC 7523 §3). */
  clientId: string;
  /** The workload issuer's private key (its public half is the client's registered `jwks`). */
  privateKey: CryptoKey;
  /** The public JWK registered as the client's `jwks`. */
  publicJwk: JWK;
  /**
   * An assertion as the workload's platform would hand it over: a JWT signed by the workload
   * issuer, `iss` and `sub` the client id, `aud` the IdP's issuer, a fresh `jti`, `exp` in
   * `lifetimeSeconds` (default 600). `claims` are added or override those; `key` signs instead.
   */
  assertion(options?: {
    claims?: JWTPayload;
    lifetimeSeconds?: number;
    key?: CryptoKey;
  }): Promise<string>;
}

export interface TokenExchangeIdp extends TestIdp {
  workload: WorkloadIdentity;
}

/** What a test may read of a token the harness issued, once verified. */
export interface ExchangedClaims extends JWTPayload {
  act?: { sub: string; act?: unknown };
  client_id?: string;
  scope?: string;
  cnf?: { jkt: string };
}

/** The lifetime of an exchanged token, seconds, unless the subject token expires sooner. */
const EXCHANGED_TOKEN_TTL = 300;

/**
 * Starts the test IdP with the token-exchange grant and a workload-identity client. `options`
 * are those of {@link startIdp}; its clients are added to the ones this harness registers.
 */
export async function startTokenExchangeIdp(
  options: StartIdpOptions = {},
): Promise<TokenExchangeIdp> {
  const workloadIssuer = await generateKeyPair('ES256', { extractable: true });
  const workloadJwk: JWK = {
    ...(await exportJWK(workloadIssuer.publicKey)),
    kid: `workload-issuer-${randomUUID().slice(0, 8)}`,
    alg: 'ES256',
    use: 'sig',
  };
  const workloadClientId = 'system:serviceaccount:orders:worker';
  const grants = ['client_credentials', TOKEN_EXCHANGE_GRANT];
  const base = { response_types: [], redirect_uris: [], grant_types: grants };
  const idp = await startIdp({
    ...options,
    clients: [
      {
        ...base,
        client_id: EXCHANGE_CLIENTS.frontend.clientId,
        client_secret: EXCHANGE_CLIENTS.frontend.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'orders:read orders:write ledger:read',
      },
      {
        ...base,
        client_id: EXCHANGE_CLIENTS.exchanger.clientId,
        client_secret: EXCHANGE_CLIENTS.exchanger.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'orders:read ledger:read billing:read',
      },
      {
        ...base,
        client_id: workloadClientId,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [workloadJwk] },
        scope: 'orders:read ledger:read',
      },
      ...(options.clients ?? []),
    ],
  });

  const signingJwk = idp.keys.find((key) => key.alg === 'RS256');
  if (!signingJwk) throw new Error('startTokenExchangeIdp: the IdP needs an RS256 signing key');
  const signingKey = (await importJWK(signingJwk, 'RS256')) as CryptoKey;
  const ownKeys = createLocalJWKSet(idp.jwks);

  /** A token this IdP issued, verified; `invalid_request` (RFC 8693 §2.2.2) otherwise. */
  async function verifyOwnToken(token: unknown, type: unknown, which: string) {
    if (typeof token !== 'string' || token.length === 0) {
      throw new errors.InvalidRequest(`missing required parameter '${which}_token'`);
    }
    if (type !== TOKEN_TYPES.accessToken && type !== TOKEN_TYPES.jwt) {
      throw new errors.InvalidRequest(`unsupported ${which}_token_type`);
    }
    try {
      const { payload } = await jwtVerify<ExchangedClaims>(token, ownKeys, {
        issuer: idp.issuer,
        algorithms: ['RS256', 'ES256', 'EdDSA'],
      });
      return payload;
    } catch {
      throw new errors.InvalidRequest(`${which}_token is invalid`);
    }
  }

  const knownTargets = new Set<string>([
    ...Object.values(EXCHANGE_AUDIENCES),
    ...Object.values(RESOURCES),
  ]);

  async function tokenExchange(ctx: TokenExchangeContext): Promise<void> {
    const { params, client } = ctx.oidc;
    if (params.actor_token_type !== undefined && params.actor_token === undefined) {
      throw new errors.InvalidRequest('actor_token_type is only allowed with actor_token');
    }
    const subject = await verifyOwnToken(
      params.subject_token,
      params.subject_token_type,
      'subject',
    );
    const actor =
      params.actor_token === undefined
        ? undefined
        : await verifyOwnToken(params.actor_token, params.actor_token_type, 'actor');
    if (
      params.requested_token_type !== undefined &&
      params.requested_token_type !== TOKEN_TYPES.accessToken
    ) {
      throw new errors.InvalidRequest('only access tokens can be requested');
    }
    const targets = exchangeTargets(params);
    if (targets.length === 0) throw new errors.InvalidTarget('audience or resource is required');
    for (const target of targets) {
      if (!knownTargets.has(target)) throw new errors.InvalidTarget();
    }
    const dPoP = await validateDpop(idp.provider, ctx);
    const now = Math.floor(Date.now() / 1000);
    const exp = Math.min(now + EXCHANGED_TOKEN_TTL, subject.exp ?? Number.POSITIVE_INFINITY);
    // RFC 8693 §4.1: `act` names the acting party, the current actor outermost; an earlier
    // delegation chain stays nested inside it.
    const actingParty = actor?.sub ?? client.clientId;
    const act =
      subject.act === undefined ? { sub: actingParty } : { sub: actingParty, act: subject.act };
    const scope =
      typeof params.scope === 'string' && params.scope !== '' ? params.scope : undefined;
    const accessToken = await new SignJWT({
      client_id: client.clientId,
      act,
      ...(scope === undefined ? {} : { scope }),
      ...(dPoP === undefined ? {} : { cnf: { jkt: dPoP.thumbprint } }),
    })
      .setProtectedHeader({ alg: 'RS256', kid: signingJwk?.kid, typ: 'at+jwt' })
      .setIssuer(idp.issuer)
      .setSubject(subject.sub ?? client.clientId)
      .setAudience(targets.length === 1 ? targets[0]! : targets)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(signingKey);
    ctx.body = {
      access_token: accessToken,
      issued_token_type: TOKEN_TYPES.accessToken,
      token_type: dPoP === undefined ? 'Bearer' : 'DPoP',
      expires_in: exp - now,
      ...(scope === undefined ? {} : { scope }),
    };
  }

  registerTokenExchangeGrant(idp.provider, tokenExchange);

  const workload: WorkloadIdentity = {
    clientId: workloadClientId,
    privateKey: workloadIssuer.privateKey,
    publicJwk: publicJwk(workloadJwk),
    async assertion({ claims = {}, lifetimeSeconds = 600, key } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: workloadClientId,
        sub: workloadClientId,
        aud: idp.issuer,
        jti: randomUUID(),
        iat: now,
        exp: now + lifetimeSeconds,
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid: workloadJwk.kid, typ: 'JWT' })
        .sign(key ?? workloadIssuer.privateKey);
    },
  };

  return Object.assign(idp, { workload });
}

/** The members of a token exchange request (RFC 8693 §2.1), as form parameters. */
export interface RawExchangeParameters {
  subject_token: string;
  subject_token_type: string;
  actor_token?: string;
  actor_token_type?: string;
  requested_token_type?: string;
  audience?: string | string[];
  resource?: string | string[];
  scope?: string;
}

/**
 * Sends a token exchange request with plain fetch, authenticated as `client` with Basic
 * (default: {@link EXCHANGE_CLIENTS.exchanger}), with a DPoP proof when `dpop` is given.
 */
export async function requestTokenExchange(
  idp: TestIdp,
  parameters: RawExchangeParameters,
  {
    client = EXCHANGE_CLIENTS.exchanger,
    dpop,
  }: { client?: { clientId: string; clientSecret: string }; dpop?: string } = {},
): Promise<RawTokenResponse> {
  const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT });
  for (const [name, value] of Object.entries(parameters)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined) form.append(name, String(item));
    }
  }
  const headers: Record<string, string> = {
    authorization: basicAuthorization(client.clientId, client.clientSecret),
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (dpop !== undefined) headers.dpop = dpop;
  const response = await fetch(idp.endpoints.token, { method: 'POST', headers, body: form });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** Verifies a token the harness issued, as a resource server for `audience` would. */
export async function verifyExchangedToken(
  idp: TestIdp,
  token: string,
  audience: string,
): Promise<ExchangedClaims> {
  const { payload, protectedHeader } = await jwtVerify<ExchangedClaims>(
    token,
    createLocalJWKSet(idp.jwks),
    { issuer: idp.issuer, audience, typ: 'at+jwt' },
  );
  if (protectedHeader.typ !== 'at+jwt') throw new Error('not an at+jwt token');
  return payload;
}
