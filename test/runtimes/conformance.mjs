/**
 * The runtime conformance suite: one set of checks of the built package (`dist/index.js`, the
 * default WebCrypto build) that runs unchanged on Node, Bun, Deno and workerd.
 *
 * Plain ESM JavaScript on purpose: no TypeScript, no test framework, no `node:` imports, only
 * what every runtime has (WebCrypto, fetch, `Request`, `atob`/`btoa`). The orchestrator
 * (`matrix.test.ts`) starts the IdP and a protected endpoint on 127.0.0.1 and passes their
 * addresses in a {@link ConformanceConfig}; `run.mjs` (Node, Bun, Deno) and `worker.mjs`
 * (workerd) call {@link runConformance} and print its lines.
 *
 * Output: one line per check, `ok <n> - <name>` or `not ok <n> - <name>: <why>`, then a last
 * line `<passed> passed, <failed> failed`. No line ever holds a token or a secret.
 */
import {
  AuthError,
  NetworkError,
  OAuthError,
  ClientAssertionError,
  MtlsUnavailableError,
  TokenError,
  TokenTypes,
  assertionFromFile,
  assertionFromUrl,
  certificateThumbprint,
  createAuthClient,
  createResourceServer,
  introspectToken,
  revokeToken,
} from '../../dist/index.js';

/**
 * @typedef {object} SecretClient
 * @property {string} clientId
 * @property {string} clientSecret
 *
 * @typedef {object} ConformanceConfig
 * @property {string} runtime          what runs the suite, for the report
 * @property {string} issuer           the IdP (oidc-provider on 127.0.0.1)
 * @property {string} nonceIssuer      a second IdP that requires DPoP nonces
 * @property {string} exchangeIssuer   a third IdP with token exchange and a workload client
 * @property {string} workloadTokenUrl a workload token service (GitHub Actions' kind)
 * @property {string} workloadRequestToken what that service wants as a bearer token
 * @property {string} workloadTokenFile a projected-token file (Kubernetes' kind)
 * @property {string} workloadRotateUrl `POST` here rewrites that file with a fresh assertion
 * @property {boolean} fileSystem      whether this runtime has node:fs (workerd has not)
 * @property {boolean} clientCertificates whether the `tls` option works here (Node, undici)
 * @property {{ tokenEndpoint: string, ca: string, cert: string, key: string, x5t: string,
 *   otherCert: string }} mtls  a token endpoint behind TLS that wants `cert`; PEM; its x5t#S256
 * @property {string} subjectToken     a token the exchange IdP issued to another service
 * @property {{ ledger: string, billing: string }} exchangeAudiences audiences it exchanges for
 * @property {string} protectedUrl     an endpoint that verifies with Node's resource server
 * @property {string} statsUrl         request counts of both IdPs, as JSON
 * @property {string} closedUrl        a 127.0.0.1 address where nothing listens
 * @property {{ basic: SecretClient, post: SecretClient, dpopOnly: SecretClient,
 *   resourceServer: SecretClient, privateKeyJwt: { clientId: string, privateJwk: object },
 *   exchanger: SecretClient, workload: { clientId: string } }} clients
 * @property {{ jwt: string, opaque: string, es256: string, eddsa: string }} resources
 */

/**
 * Runs every check once, in order, and reports each through `print`.
 *
 * @param {ConformanceConfig} config
 * @param {(line: string) => void} print
 * @returns {Promise<{ passed: number, failed: number }>}
 */
export async function runConformance(config, print) {
  const checks = defineChecks(config);
  let passed = 0;
  let failed = 0;
  for (const [index, { name, run }] of checks.entries()) {
    const started = Date.now();
    try {
      const detail = await run();
      passed += 1;
      print(
        `ok ${index + 1} - ${name}${detail ? ` (${detail})` : ''} [${Date.now() - started} ms]`,
      );
    } catch (error) {
      failed += 1;
      print(`not ok ${index + 1} - ${name}: ${describe(error)}`);
    }
  }
  print(`${passed} passed, ${failed} failed`);
  return { passed, failed };
}

/** @param {ConformanceConfig} config */
function defineChecks(config) {
  const { issuer, clients, resources } = config;
  /** @type {{ name: string, run: () => Promise<string | void> }[]} */
  const checks = [];
  const check = (name, run) => checks.push({ name, run });

  const stats = async () => {
    const response = await fetch(config.statsUrl);
    if (!response.ok) throw new Error(`stats endpoint answered ${response.status}`);
    return response.json();
  };

  // One client and one resource server for most checks, as a service would hold them.
  const bearer = createAuthClient({
    issuer,
    clientId: clients.basic.clientId,
    clientSecret: clients.basic.clientSecret,
    scope: 'orders:read',
    resource: resources.jwt,
  });
  const dpop = createAuthClient({
    issuer,
    clientId: clients.basic.clientId,
    clientSecret: clients.basic.clientSecret,
    scope: 'orders:read',
    resource: resources.jwt,
    dpop: true,
  });
  const resourceServer = createResourceServer({ issuer, audience: resources.jwt });

  check('discovery and a client_credentials Bearer token', async () => {
    const before = await stats();
    const token = await bearer.getToken();
    const after = await stats();
    equal(token.token_type, 'Bearer', 'token_type');
    equal(token.access_token.split('.').length, 3, 'JWT parts');
    ok(
      typeof token.expires_at === 'number' && token.expires_at > Date.now() / 1000,
      'expires_at in the future',
    );
    ok(spaced(token.scope ?? '').includes('orders:read'), 'scope granted');
    equal(after.discovery - before.discovery, 1, 'discovery requests');
    equal(after.token - before.token, 1, 'token requests');
    const claims = decodePayload(token.access_token);
    equal(claims.aud, resources.jwt, 'aud');
    equal(claims.client_id, clients.basic.clientId, 'client_id');
    return `expires in ${token.expires_in}s`;
  });

  check('the cache serves a second call without a request', async () => {
    const first = await bearer.getAccessToken();
    const before = await stats();
    const again = await bearer.getAccessToken();
    const sameSlot = await bearer.getAccessToken({ scope: ['orders:read'] });
    const after = await stats();
    equal(again, first, 'second call returns the cached token');
    equal(sameSlot, first, "'orders:read' and ['orders:read'] share a slot");
    equal(after.token - before.token, 0, 'token requests for cached calls');
    return 'IdP saw 0 new token requests';
  });

  check('scopes and resources: each set gets its own token, order does not matter', async () => {
    const before = await stats();
    const inventory = await bearer.getToken({ scope: 'inventory:read', resource: resources.es256 });
    const both = await bearer.getToken({ scope: 'orders:read orders:write' });
    const reversed = await bearer.getToken({
      scope: ['orders:write', 'orders:read', 'orders:write'],
    });
    const after = await stats();
    const claims = decodePayload(inventory.access_token);
    equal(claims.aud, resources.es256, 'aud of the inventory token');
    equal(claims.scope, 'inventory:read', 'scope of the inventory token');
    equal(decodeHeader(inventory.access_token).alg, 'ES256', 'alg of the inventory token');
    equal(
      spaced(decodePayload(both.access_token).scope).sort().join(' '),
      'orders:read orders:write',
      'two scopes',
    );
    equal(reversed.access_token, both.access_token, 'reordered, duplicated scopes share a slot');
    equal(after.token - before.token, 2, 'token requests');
  });

  check('client_secret_post authentication', async () => {
    const client = createAuthClient({
      issuer,
      clientId: clients.post.clientId,
      clientSecret: clients.post.clientSecret,
      clientAuth: 'client_secret_post',
    });
    const claims = decodePayload(await client.getAccessToken({ scope: 'orders:read' }));
    equal(claims.client_id, clients.post.clientId, 'client_id');
  });

  check('private_key_jwt authentication signed on this runtime', async () => {
    const client = createAuthClient({
      issuer,
      clientId: clients.privateKeyJwt.clientId,
      clientAuth: 'private_key_jwt',
      privateKey: clients.privateKeyJwt.privateJwk,
    });
    const claims = decodePayload(await client.getAccessToken({ scope: 'orders:read' }));
    equal(claims.client_id, clients.privateKeyJwt.clientId, 'client_id');
    return `assertion ${clients.privateKeyJwt.privateJwk.alg}`;
  });

  check(
    'an unknown scope is OAuthError invalid_scope, an unknown resource invalid_target',
    async () => {
      const scopeError = await rejects(bearer.getToken({ scope: 'orders:admin' }), OAuthError);
      equal(scopeError.code, 'invalid_scope', 'code');
      equal(scopeError.status, 400, 'status');
      const targetError = await rejects(
        bearer.getToken({ resource: 'https://unknown.example.test/' }),
        OAuthError,
      );
      equal(targetError.code, 'invalid_target', 'code');
    },
  );

  check('a DPoP-bound token (dpop: true, Ed25519 key made on this runtime)', async () => {
    const token = await dpop.getToken();
    equal(token.token_type, 'DPoP', 'token_type');
    const claims = decodePayload(token.access_token);
    ok(
      typeof claims.cnf?.jkt === 'string' && claims.cnf.jkt.length === 43,
      'cnf.jkt is a SHA-256 thumbprint',
    );
  });

  check('client.fetch with DPoP to an endpoint that verifies with Node', async () => {
    const url = `${config.protectedUrl}?item=42`;
    const response = await dpop.fetch(url, { method: 'POST', body: 'hello' });
    const body = await response.json();
    equal(response.status, 200, `status (${JSON.stringify(body)})`);
    equal(body.scheme, 'DPoP', 'scheme the server saw');
    equal(body.clientId, clients.basic.clientId, 'client_id the server saw');
    equal(body.jkt, decodePayload(await dpop.getAccessToken()).cnf.jkt, 'key thumbprint');
    equal(body.method, 'POST', 'method');
    equal(body.body, 'hello', 'request body');
  });

  check('client.fetch with Bearer to an endpoint that verifies with Node', async () => {
    const response = await bearer.fetch(config.protectedUrl);
    const body = await response.json();
    equal(response.status, 200, `status (${JSON.stringify(body)})`);
    equal(body.scheme, 'Bearer', 'scheme the server saw');
  });

  check('buildDpopProof: RFC 9449 header and claims, ath over the token', async () => {
    const accessToken = await dpop.getAccessToken();
    const htu = `${config.protectedUrl}?query=dropped#fragment`;
    const proof = await dpop.buildDpopProof({ htm: 'PATCH', htu, accessToken, nonce: 'n-1' });
    const header = decodeHeader(proof);
    const claims = decodePayload(proof);
    equal(header.typ, 'dpop+jwt', 'typ');
    equal(header.alg, 'EdDSA', 'alg');
    equal(header.jwk?.kty, 'OKP', 'jwk.kty');
    equal(header.jwk?.crv, 'Ed25519', 'jwk.crv');
    ok(header.jwk.d === undefined, 'no private key in the header');
    equal(claims.htm, 'PATCH', 'htm');
    equal(claims.htu, config.protectedUrl, 'htu without query and fragment');
    equal(claims.nonce, 'n-1', 'nonce');
    ok(typeof claims.jti === 'string' && claims.jti.length >= 16, 'jti');
    ok(Math.abs(claims.iat - Date.now() / 1000) < 60, 'iat is now');
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
    equal(claims.ath, base64url(new Uint8Array(digest)), 'ath');
    const other = await dpop.buildDpopProof({ htm: 'PATCH', htu });
    ok(decodePayload(other).jti !== claims.jti, 'a fresh jti per proof');
  });

  check('buildDpopProof without dpop is a TypeError', async () => {
    await rejects(
      Promise.resolve().then(() => bearer.buildDpopProof({ htm: 'GET', htu: issuer })),
      TypeError,
    );
  });

  check(
    'resource server on this runtime: verifyToken for RS256, ES256 and EdDSA tokens',
    async () => {
      const before = await stats();
      const server = createResourceServer({ issuer, audience: resources.jwt });
      const algorithms = [];
      for (const [resource, scope] of [
        [resources.jwt, 'orders:read'],
        [resources.es256, 'inventory:read'],
        [resources.eddsa, 'billing:read'],
      ]) {
        const token = await bearer.getAccessToken({ scope, resource });
        const claims = await server.verifyToken(token, {
          audience: resource,
          requiredScopes: scope,
        });
        equal(claims.client_id, clients.basic.clientId, 'client_id');
        equal(claims.iss, issuer, 'iss');
        algorithms.push(decodeHeader(token).alg);
      }
      const after = await stats();
      equal(after.jwks - before.jwks, 1, 'JWKS fetched once for three tokens');
      return algorithms.join(', ');
    },
  );

  check('resource server on this runtime: verifyRequest with a DPoP proof made here', async () => {
    const accessToken = await dpop.getAccessToken();
    const url = 'https://orders.example.test/orders/42';
    const proof = await dpop.buildDpopProof({ htm: 'GET', htu: url, accessToken });
    const request = () =>
      new Request(url, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
    const claims = await resourceServer.verifyRequest(request(), {
      requiredScopes: ['orders:read'],
    });
    equal(claims.cnf?.jkt, decodePayload(accessToken).cnf.jkt, 'cnf.jkt');
    const replay = await rejects(resourceServer.verifyRequest(request()), TokenError);
    equal(replay.reason, 'dpop_replay', 'a replayed proof');
    const asBearer = await rejects(
      resourceServer.verifyRequest({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${accessToken}` },
      }),
      TokenError,
    );
    equal(asBearer.reason, 'dpop', 'a DPoP-bound token sent as Bearer');
    const otherUrl = await dpop.buildDpopProof({
      htm: 'GET',
      htu: 'https://orders.example.test/other',
      accessToken,
    });
    const wrongHtu = await rejects(
      resourceServer.verifyRequest(
        new Request(url, { headers: { authorization: `DPoP ${accessToken}`, dpop: otherUrl } }),
      ),
      TokenError,
    );
    equal(wrongHtu.reason, 'dpop', 'a proof for another URL');
    ok(wrongHtu.wwwAuthenticate.startsWith('DPoP'), 'WWW-Authenticate names DPoP');
  });

  check('forged tokens are rejected with TokenError', async () => {
    const token = await bearer.getAccessToken();
    const [header, payload, signature] = token.split('.');
    const reasons = [];
    const expectReason = async (forged, reason, what) => {
      const error = await rejects(resourceServer.verifyToken(forged), TokenError);
      equal(error.reason, reason, what);
      equal(error.status, 401, `${what}: status`);
      ok(
        !error.message.includes(forged) && !String(error).includes(signature),
        `${what}: message holds no token`,
      );
      reasons.push(error.reason);
    };
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expectReason(`${header}.${payload}.${flipped}`, 'signature', 'a changed signature');
    const claims = decodePayload(token);
    const elevated = encodeJson({ ...claims, scope: 'orders:read orders:admin' });
    await expectReason(`${header}.${elevated}.${signature}`, 'signature', 'an elevated scope');
    await expectReason(
      `${encodeJson({ alg: 'none', typ: 'at+jwt' })}.${payload}.AAAA`,
      'algorithm',
      'alg none',
    );

    // Algorithm confusion: HS256 keyed with the issuer's published RSA key.
    const jwks = await (await fetch(`${issuer}/jwks`)).json();
    const rsa = jwks.keys.find((key) => key.kty === 'RSA');
    const hmacKey = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(JSON.stringify(rsa)),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const hsInput = `${encodeJson({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid })}.${payload}`;
    const hsSignature = await crypto.subtle.sign(
      'HMAC',
      hmacKey,
      new TextEncoder().encode(hsInput),
    );
    await expectReason(
      `${hsInput}.${base64url(new Uint8Array(hsSignature))}`,
      'algorithm',
      'HS256 with the public key',
    );

    // An attacker's own P-256 key, claiming the kid of the issuer's ES256 key.
    const ec = jwks.keys.find((key) => key.kty === 'EC');
    const attacker = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const ecInput = `${encodeJson({ alg: 'ES256', typ: 'at+jwt', kid: ec.kid })}.${payload}`;
    const ecSignature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      attacker.privateKey,
      new TextEncoder().encode(ecInput),
    );
    await expectReason(
      `${ecInput}.${base64url(new Uint8Array(ecSignature))}`,
      'signature',
      "an attacker's key",
    );

    const wrongAudience = await rejects(
      resourceServer.verifyToken(token, { audience: resources.es256 }),
      TokenError,
    );
    equal(wrongAudience.reason, 'audience', 'another audience');
    const missingScope = await rejects(
      resourceServer.verifyToken(token, { requiredScopes: 'orders:write' }),
      TokenError,
    );
    equal(missingScope.reason, 'scope', 'a missing scope');
    equal(missingScope.status, 403, 'a missing scope: status');
    ok(
      missingScope.wwwAuthenticate.includes('insufficient_scope'),
      'a missing scope: insufficient_scope',
    );
    ok(missingScope instanceof AuthError, 'TokenError extends AuthError');
    return reasons.join(', ');
  });

  check('introspectToken on an opaque token, then revokeToken', async () => {
    const opaque = await bearer.getAccessToken({
      scope: 'ledger:read',
      resource: resources.opaque,
    });
    ok(opaque.split('.').length === 1, 'the ledger token is opaque');
    const caller = {
      issuer,
      clientId: clients.resourceServer.clientId,
      clientSecret: clients.resourceServer.clientSecret,
    };
    const active = await introspectToken({ ...caller, token: opaque });
    equal(active.active, true, 'active');
    equal(active.client_id, clients.basic.clientId, 'client_id');
    equal(active.scope, 'ledger:read', 'scope');
    await revokeToken({ ...caller, token: opaque, tokenTypeHint: 'access_token' });
    const revoked = await introspectToken({ ...caller, token: opaque });
    equal(revoked.active, false, 'active after revocation');
    const unknown = await introspectToken({ ...caller, token: 'no-such-token' });
    equal(unknown.active, false, 'an unknown token is inactive, not an error');
  });

  check('a wrong client secret is OAuthError invalid_client', async () => {
    const secret = 'wrong-secret-9f3a';
    const client = createAuthClient({
      issuer,
      clientId: clients.basic.clientId,
      clientSecret: secret,
    });
    const error = await rejects(client.getToken(), OAuthError);
    equal(error.code, 'invalid_client', 'code');
    equal(error.status, 401, 'status');
    ok(error instanceof AuthError, 'OAuthError extends AuthError');
    ok(
      !`${error.message} ${String(error)} ${JSON.stringify(error)}`.includes(secret),
      'no secret in the error',
    );
    const introspection = await rejects(
      introspectToken({
        issuer,
        clientId: clients.resourceServer.clientId,
        clientSecret: secret,
        token: 'x',
      }),
      OAuthError,
    );
    equal(introspection.code, 'invalid_client', 'introspection code');
  });

  check('an IdP on a closed port is NetworkError', async () => {
    const client = createAuthClient({
      issuer: config.closedUrl,
      clientId: clients.basic.clientId,
      clientSecret: clients.basic.clientSecret,
      retry: false,
      circuitBreaker: false,
      timeoutMs: 5000,
    });
    const error = await rejects(client.getToken(), NetworkError);
    ok(error instanceof AuthError, 'NetworkError extends AuthError');
    ok(error.cause !== undefined, 'cause kept');
    const server = createResourceServer({
      issuer,
      audience: resources.jwt,
      jwksUri: `${config.closedUrl}/jwks`,
    });
    const jwks = await rejects(server.verifyToken(await bearer.getAccessToken()), TokenError);
    equal(jwks.reason, 'jwks', 'a resource server whose key set is down');
    await rejects(
      introspectToken({
        issuer: config.closedUrl,
        clientId: clients.resourceServer.clientId,
        clientSecret: clients.resourceServer.clientSecret,
        token: 'x',
      }),
      NetworkError,
    );
  });

  check('a DPoP nonce challenge is answered with one retry', async () => {
    const before = await stats();
    const client = createAuthClient({
      issuer: config.nonceIssuer,
      clientId: clients.dpopOnly.clientId,
      clientSecret: clients.dpopOnly.clientSecret,
      scope: 'orders:read',
      dpop: true,
    });
    const token = await client.getToken();
    const after = await stats();
    equal(token.token_type, 'DPoP', 'token_type');
    equal(after.nonceToken - before.nonceToken, 2, 'token requests (challenge + retry)');
  });

  check('client_assertion from a workload token service (assertionFromUrl)', async () => {
    const before = await stats();
    const workload = createAuthClient({
      issuer: config.exchangeIssuer,
      clientId: clients.workload.clientId,
      clientAuth: 'client_assertion',
      clientAssertion: assertionFromUrl(config.workloadTokenUrl, {
        headers: { authorization: `Bearer ${config.workloadRequestToken}` },
        audience: config.exchangeIssuer,
      }),
      scope: 'orders:read',
    });
    const first = await workload.getToken();
    const cached = await workload.getToken();
    const fresh = await workload.getToken({ forceRefresh: true });
    const after = await stats();
    equal(first.token_type, 'Bearer', 'token_type');
    equal(cached.access_token, first.access_token, 'the cached token served again');
    ok(fresh.access_token !== first.access_token, 'a forced refresh buys a new token');
    // One assertion fetched per token request, none for the cache hit.
    equal(after.workloadTokens - before.workloadTokens, 2, 'assertions fetched');
    equal(after.exchangeToken - before.exchangeToken, 2, 'token requests');
  });

  check('client_assertion from a rotating token file (assertionFromFile)', async () => {
    const workload = createAuthClient({
      issuer: config.exchangeIssuer,
      clientId: clients.workload.clientId,
      clientAuth: 'client_assertion',
      clientAssertion: assertionFromFile(config.workloadTokenFile),
      scope: 'orders:read',
      retry: false,
    });
    if (!config.fileSystem) {
      const error = await rejects(workload.getToken(), ClientAssertionError);
      equal(error.code, 'no_file_system', 'code on a runtime without node:fs');
      return 'no node:fs here: a typed error';
    }
    const before = await stats();
    const first = await workload.getToken();
    // The platform rotates the file; the next token request reads the new assertion (the old
    // one's jti is spent: the IdP would refuse it again).
    const rotated = await fetch(config.workloadRotateUrl, { method: 'POST' });
    equal(rotated.status, 200, 'rotation');
    const second = await workload.getToken({ forceRefresh: true });
    const after = await stats();
    equal(first.token_type, 'Bearer', 'token_type');
    ok(second.access_token !== first.access_token, 'a new token after rotation');
    equal(after.exchangeToken - before.exchangeToken, 2, 'token requests');
  });

  check('exchangeToken: a delegated token for another audience (RFC 8693), cached', async () => {
    const exchanger = createAuthClient({
      issuer: config.exchangeIssuer,
      clientId: clients.exchanger.clientId,
      clientSecret: clients.exchanger.clientSecret,
    });
    const before = await stats();
    const options = {
      subjectToken: config.subjectToken,
      subjectTokenType: TokenTypes.accessToken,
      audience: config.exchangeAudiences.ledger,
      scope: 'ledger:read',
    };
    const token = await exchanger.exchangeToken(options);
    const again = await exchanger.exchangeToken(options);
    const after = await stats();
    equal(token.issued_token_type, TokenTypes.accessToken, 'issued_token_type');
    equal(token.token_type, 'Bearer', 'token_type');
    const claims = decodePayload(token.access_token);
    ok([claims.aud].flat().includes(config.exchangeAudiences.ledger), 'the ledger audience in aud');
    equal(claims.act?.sub, clients.exchanger.clientId, 'act.sub (the acting service)');
    equal(again.access_token, token.access_token, 'the cached exchange served again');
    equal(after.exchangeToken - before.exchangeToken, 1, 'token requests');
  });

  check(
    'exchangeToken for an audience the IdP does not serve is OAuthError invalid_target',
    async () => {
      const exchanger = createAuthClient({
        issuer: config.exchangeIssuer,
        clientId: clients.exchanger.clientId,
        clientSecret: clients.exchanger.clientSecret,
        retry: false,
      });
      const error = await rejects(
        exchanger.exchangeToken({
          subjectToken: config.subjectToken,
          subjectTokenType: TokenTypes.accessToken,
          audience: 'no-such-api',
        }),
        OAuthError,
      );
      equal(error.code, 'invalid_target', 'code');
      ok(
        !`${error.message} ${String(error)} ${JSON.stringify(error)}`.includes(config.subjectToken),
        'no subject token in the error',
      );
    },
  );

  check('tls_client_auth: the tls option presents the certificate (RFC 8705 §2)', async () => {
    const client = () =>
      createAuthClient({
        tokenEndpoint: config.mtls.tokenEndpoint,
        clientId: 'orders-mtls',
        clientAuth: 'tls_client_auth',
        tls: { cert: config.mtls.cert, key: config.mtls.key, ca: config.mtls.ca },
        retry: false,
        circuitBreaker: false,
      });
    if (!config.clientCertificates) {
      const error = await rejects((async () => client().getToken())(), MtlsUnavailableError);
      equal(error.code, 'mtls_unavailable', 'code');
      ok(!`${error.message} ${String(error.cause)}`.includes('PRIVATE KEY'), 'no key in the error');
      return 'no client certificates in this fetch: a typed error';
    }
    const auth = client();
    try {
      // The endpoint answers 200 only to a connection presenting the certificate.
      const token = await auth.getToken();
      equal(token.access_token, 'mtls-bound-token', 'access_token');
    } finally {
      auth.close();
    }
  });

  check('certificate-bound tokens: cnf["x5t#S256"] against the client certificate', async () => {
    equal(await certificateThumbprint(config.mtls.cert), config.mtls.x5t, 'the thumbprint');
    const certIssuer = 'https://certificates.conformance.test';
    const audience = 'https://inventory.conformance.test';
    const { privateKey, publicKey } = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['sign', 'verify'],
    );
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
    const jwks = { keys: [{ kty, crv, x, y, kid: 'bound', alg: 'ES256', use: 'sig' }] };
    const served = (body) =>
      new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    const server = createResourceServer({
      issuer: certIssuer,
      audience,
      fetch: async (input) => {
        const { pathname } = new URL(input instanceof Request ? input.url : String(input));
        if (pathname === '/jwks') return served(jwks);
        if (pathname.startsWith('/.well-known/')) {
          return served({ issuer: certIssuer, jwks_uri: `${certIssuer}/jwks` });
        }
        return new Response('not found', { status: 404 });
      },
    });
    const now = Math.floor(Date.now() / 1000);
    const signingInput = `${encodeJson({ alg: 'ES256', typ: 'at+jwt', kid: 'bound' })}.${encodeJson(
      {
        iss: certIssuer,
        sub: 'orders-service',
        aud: audience,
        client_id: 'orders-service',
        iat: now,
        exp: now + 300,
        jti: crypto.randomUUID(),
        scope: 'stock:read',
        cnf: { 'x5t#S256': config.mtls.x5t },
      },
    )}`;
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      privateKey,
      new TextEncoder().encode(signingInput),
    );
    const token = `${signingInput}.${base64url(new Uint8Array(signature))}`;
    const claims = await server.verifyToken(token, { clientCertificate: config.mtls.cert });
    equal(claims.cnf?.['x5t#S256'], config.mtls.x5t, 'cnf["x5t#S256"] with the PEM');
    await server.verifyToken(token, { clientCertificate: derOf(config.mtls.cert) });
    const other = await rejects(
      server.verifyToken(token, { clientCertificate: config.mtls.otherCert }),
      TokenError,
    );
    equal(other.reason, 'certificate', 'another certificate');
    const none = await rejects(server.verifyToken(token), TokenError);
    equal(none.reason, 'certificate', 'no certificate');
    return 'PEM and DER';
  });

  return checks;
}

// ---------------------------------------------------------------------------------------------
// Small assertion and encoding helpers (no dependencies, so every runtime runs them as is)
// ---------------------------------------------------------------------------------------------

class CheckFailure extends Error {}

function ok(condition, what) {
  if (!condition) throw new CheckFailure(`expected ${what}`);
}

function equal(actual, expected, what) {
  if (actual !== expected) {
    throw new CheckFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Awaits a promise that must reject with `type`; returns the error. */
async function rejects(promise, type) {
  let outcome;
  try {
    await promise;
  } catch (error) {
    outcome = error;
  }
  if (outcome === undefined) throw new CheckFailure(`expected ${type.name}, but it resolved`);
  if (!(outcome instanceof type)) {
    throw new CheckFailure(`expected ${type.name}, got ${describe(outcome)}`);
  }
  return outcome;
}

function show(value) {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  // Never print a whole token: a JWT-looking value is cut to its header.
  return text.length > 80 ? `${text.slice(0, 40)}…(${text.length} chars)` : text;
}

function describe(error) {
  if (error instanceof CheckFailure) return error.message;
  if (error instanceof Error) {
    const fields = ['code', 'reason', 'status']
      .filter((key) => error[key] !== undefined)
      .map((key) => `${key}=${error[key]}`);
    const cause =
      error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : '';
    return `${error.name}: ${error.message}${fields.length ? ` [${fields.join(' ')}]` : ''}${cause}`;
  }
  return String(error);
}

function spaced(scope) {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function encodeJson(value) {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

function decodePart(part) {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
}

/** The DER bytes of the first PEM block. */
function derOf(pem) {
  const base64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function decodeHeader(jwt) {
  return decodePart(jwt.split('.')[0]);
}

function decodePayload(jwt) {
  return decodePart(jwt.split('.')[1]);
}
