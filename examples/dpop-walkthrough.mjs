// The whole flow on one machine, printed step by step:
//   a local IdP  ->  a client service that mints a DPoP-bound token  ->  a protected service
//   that verifies it  ->  introspection and revocation of an opaque token  ->  token exchange
//   (RFC 8693) of the orders token for a ledger-scoped one.
//
// Run it with `npm run demo` (it builds the package first). Everything binds 127.0.0.1.
import { createServer } from 'node:http';
import { decodeProtectedHeader, calculateJwkThumbprint } from 'jose';
import {
  createAuthClient,
  createResourceServer,
  introspectToken,
  revokeToken,
  TokenError,
  TokenTypes,
} from 's2s-auth';
import { CLIENT, INTROSPECTOR, LEDGER_API, ORDERS_API, startLocalIdp } from './local-idp.mjs';

const step = (n, text) => console.log(`\n${n}. ${text}`);
const show = (label, value) => console.log(`   ${label.padEnd(18)} ${value}`);
/** Tokens are credentials: print enough to recognise one, never all of it. */
const peek = (token) => `${token.slice(0, 12)}… (${token.length} chars)`;

// Count what reaches the IdP, to show the cache at work.
let idpTokenRequests = 0;
const countingFetch = async (input, init) => {
  const request = new Request(input, init);
  if (new URL(request.url).pathname === '/token') idpTokenRequests++;
  return fetch(request);
};

const idp = await startLocalIdp();
step(1, 'Local authorization server started');
show('issuer', idp.issuer);

// The protected service: every request goes through verifyRequest.
const orders = createResourceServer({
  issuer: idp.issuer,
  audience: ORDERS_API,
  requiredScopes: ['orders:read'],
});
const api = createServer(async (req, res) => {
  const request = new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers: req.headers,
  });
  try {
    const claims = await orders.verifyRequest(request);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ order: 42, verified: claims }));
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    const headers = { 'www-authenticate': error.wwwAuthenticate };
    if (error.dpopNonce) headers['dpop-nonce'] = error.dpopNonce;
    res.writeHead(error.status, headers).end(JSON.stringify({ reason: error.reason }));
  }
});
await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
const apiUrl = `http://127.0.0.1:${api.address().port}/orders/42`;
step(2, 'Protected orders service started');
show('url', apiUrl);
show('expects', `aud ${ORDERS_API}, scope orders:read, DPoP or Bearer`);

try {
  const client = createAuthClient({
    issuer: idp.issuer,
    ...CLIENT,
    scope: 'orders:read',
    resource: ORDERS_API,
    dpop: true,
    fetch: countingFetch,
  });

  step(3, 'Client discovers the IdP (RFC 8414) and mints a DPoP-bound token (client_credentials)');
  const metadata = await (
    await fetch(`${idp.issuer}/.well-known/oauth-authorization-server`)
  ).json();
  show('token_endpoint', metadata.token_endpoint);
  show('jwks_uri', metadata.jwks_uri);
  show('DPoP algs', metadata.dpop_signing_alg_values_supported?.join(' '));
  const token = await client.getToken();
  show('token_type', token.token_type);
  show('scope', token.scope ?? '(as requested)');
  show('audience', ORDERS_API);
  show(
    'expires_at',
    `${new Date(token.expires_at * 1000).toISOString()} (in ${token.expires_in} s)`,
  );
  show('access_token', peek(token.access_token));
  show('IdP token calls', idpTokenRequests);

  step(4, 'Second getToken() is a cache hit');
  const again = await client.getToken();
  show('same token', again.access_token === token.access_token);
  show('IdP token calls', idpTokenRequests);

  step(5, "The token is bound to the client's DPoP key (RFC 9449)");
  const proof = await client.buildDpopProof({
    htm: 'GET',
    htu: apiUrl,
    accessToken: token.access_token,
  });
  const header = decodeProtectedHeader(proof);
  const claimsPart = JSON.parse(
    Buffer.from(token.access_token.split('.')[1], 'base64url').toString(),
  );
  show('proof key', `${header.jwk.kty} ${header.jwk.crv}, alg ${header.alg}`);
  show('key thumbprint', await calculateJwkThumbprint(header.jwk));
  show('token cnf.jkt', claimsPart.cnf?.jkt);

  step(6, 'Client calls the protected service with client.fetch (Authorization: DPoP + proof)');
  const response = await client.fetch(apiUrl);
  const body = await response.json();
  show('status', response.status);
  show('verified sub', body.verified.sub ?? body.verified.client_id);
  show('verified scope', body.verified.scope);
  show('verified aud', JSON.stringify(body.verified.aud));
  show('verified cnf.jkt', body.verified.cnf?.jkt);

  step(7, 'A stolen DPoP token sent as a plain Bearer token is refused');
  const stolen = await fetch(apiUrl, {
    headers: { authorization: `Bearer ${token.access_token}` },
  });
  show('status', stolen.status);
  show('reason', (await stolen.json()).reason);
  show('WWW-Authenticate', stolen.headers.get('www-authenticate'));

  step(8, 'A forged token (signature altered) is refused');
  const forged = `${token.access_token.slice(0, -4)}AAAA`;
  const forgedResponse = await fetch(apiUrl, { headers: { authorization: `Bearer ${forged}` } });
  show('status', forgedResponse.status);
  show('reason', (await forgedResponse.json()).reason);

  step(9, 'Introspection (RFC 7662) of an opaque token for the ledger service');
  const ledgerToken = await client.getAccessToken({ scope: 'ledger:read', resource: LEDGER_API });
  const active = await introspectToken({ issuer: idp.issuer, ...INTROSPECTOR, token: ledgerToken });
  show('active', active.active);
  show('client_id', active.client_id);
  show('scope', active.scope);
  show('token_type', active.token_type);

  step(10, 'Revocation (RFC 7009) turns it inactive');
  await revokeToken({
    issuer: idp.issuer,
    ...CLIENT,
    token: ledgerToken,
    tokenTypeHint: 'access_token',
  });
  const revoked = await introspectToken({
    issuer: idp.issuer,
    ...INTROSPECTOR,
    token: ledgerToken,
  });
  show('active', revoked.active);

  step(11, 'Token exchange (RFC 8693): billing trades the orders token it holds for a ledger one');
  // The ledger service takes opaque tokens for its own audience, checked by introspection.
  const ledger = createResourceServer({
    issuer: idp.issuer,
    audience: LEDGER_API,
    requiredScopes: ['ledger:read'],
    introspection: INTROSPECTOR,
  });
  const billing = createAuthClient({ issuer: idp.issuer, ...CLIENT });
  const exchanged = await billing.exchangeToken({
    subjectToken: token.access_token,
    subjectTokenType: TokenTypes.accessToken,
    resource: LEDGER_API,
    scope: 'ledger:read',
  });
  show('subject token', `${peek(token.access_token)}, aud ${ORDERS_API}`);
  show('issued_token_type', exchanged.issued_token_type);
  show('token_type', exchanged.token_type);
  show('scope', exchanged.scope);
  show('access_token', peek(exchanged.access_token));
  const accepted = await ledger.verifyToken(exchanged.access_token);
  show('ledger accepts', `aud ${accepted.aud}, scope ${accepted.scope}`);
  show('act.sub', accepted.act?.sub);
  try {
    await ledger.verifyToken(token.access_token);
    show('orders token', 'accepted by the ledger');
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    show('orders token', `refused by the ledger (reason ${error.reason})`);
  }

  console.log('\nDone.');
} finally {
  await new Promise((resolve) => {
    api.close(() => resolve());
    api.closeAllConnections();
  });
  await idp.close();
}
