/**
 * Bundle size of one job done with each library: get a client-credentials token, verify a JWT
 * access token against the issuer's JWKS, introspect a token. esbuild, every dependency
 * bundled, minified, platform neutral (the WebCrypto + fetch build each package offers), ESM,
 * gzip level 9: the way scripts/size.mjs measures. s2s-auth is bundled from its source, as the
 * default build has it.
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { printTable, suite } from '../lib/harness.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

const jobs: Record<string, string> = {
  's2s-auth (createAuthClient + createResourceServer + introspectToken)': `
import { createAuthClient, createResourceServer, introspectToken } from './src/index.ts';
export const token = (issuer, clientId, clientSecret) =>
  createAuthClient({ issuer, clientId, clientSecret, scope: 'orders:read' }).getAccessToken();
export const verify = (issuer, audience, token) => createResourceServer({ issuer, audience }).verifyToken(token);
export const introspect = (issuer, clientId, clientSecret, token) => introspectToken({ issuer, clientId, clientSecret, token });
`,
  'openid-client + jose': `
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
export async function token(issuer, clientId, clientSecret) {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret);
  return (await client.clientCredentialsGrant(config, { scope: 'orders:read' })).access_token;
}
export async function verify(issuer, audience, token, clientId) {
  const config = await client.discovery(new URL(issuer), clientId);
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  return (await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt' })).payload;
}
export async function introspect(issuer, clientId, clientSecret, token) {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret);
  return client.tokenIntrospection(config, token);
}
`,
  oauth4webapi: `
import * as oauth from 'oauth4webapi';
async function discover(issuer) {
  const url = new URL(issuer);
  return oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url));
}
export async function token(issuer, clientId, clientSecret) {
  const as = await discover(issuer);
  const client = { client_id: clientId };
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret), new URLSearchParams({ scope: 'orders:read' }));
  return (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
}
export async function verify(issuer, audience, token) {
  const request = new Request('https://api.example/', { headers: { authorization: 'Bearer ' + token } });
  return oauth.validateJwtAccessToken(await discover(issuer), request, audience);
}
export async function introspect(issuer, clientId, clientSecret, token) {
  const as = await discover(issuer);
  const client = { client_id: clientId };
  const response = await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(clientSecret), token);
  return oauth.processIntrospectionResponse(as, client, response);
}
`,
};

async function measure(contents: string) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['browser'],
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = (result.outputFiles[0] as { contents: Uint8Array }).contents;
  const byPackage = new Map<string, number>();
  for (const [file, input] of Object.entries(
    Object.values(result.metafile.outputs)[0]?.inputs ?? {},
  )) {
    const name =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ??
      (file.startsWith('src/generated')
        ? 's2s-auth generated'
        : file.startsWith('src/')
          ? 's2s-auth runtime'
          : 'job code');
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  return {
    minified: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    byPackage: Object.fromEntries([...byPackage].sort((a, b) => b[1] - a[1])),
  };
}

await suite('bundle-size', async (report) => {
  const sizes: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const [name, code] of Object.entries(jobs)) sizes[name] = await measure(code);
  const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
  console.log('\n### Bundle of the same job (esbuild, minified, gzip -9)');
  printTable(
    ['library', 'minified', 'gzip', 'largest parts (minified)'],
    Object.entries(sizes).map(([name, size]) => [
      name,
      kb(size.minified),
      kb(size.gzip),
      Object.entries(size.byPackage)
        .slice(0, 4)
        .map(([part, bytes]) => `${part} ${kb(bytes)}`)
        .join(', '),
    ]),
  );
  report.measurements.sizes = sizes;
});
