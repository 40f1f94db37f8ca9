/**
 * `s2s-auth token` with the options for real IdPs: `--profile`, `--token-param`,
 * `--token-param-secret`, `--resource-as`, `--audience-parameter` and `--dpop-alg`, against
 * oidc-provider on 127.0.0.1 (which copies the parameters it is told to into the token).
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDpopProof } from '../support/dpop.js';
import { CLIENTS, RESOURCES, startIdp, type TestIdp } from '../support/idp.js';
import { assertBuilt, expectNoSecrets, runCli } from './run-cli.js';

let idp: TestIdp;
let es256Idp: TestIdp;

beforeAll(async () => {
  assertBuilt();
  [idp, es256Idp] = await Promise.all([
    startIdp({ tokenClaimsFromParameters: ['tenant', 'password', 'audience'] }),
    startIdp({ dpopSigningAlgorithms: ['ES256'] }),
  ]);
});
afterAll(async () => {
  await Promise.all([idp?.close(), es256Idp?.close()]);
});

const basic = (on: TestIdp) => [
  'token',
  '--issuer',
  on.issuer,
  '--client-id',
  CLIENTS.basic.clientId,
  '--raw',
];
const env = { S2S_AUTH_CLIENT_SECRET: CLIENTS.basic.clientSecret };
const appPassword = 'app-Pa55+word/=x';

describe('s2s-auth token: options for real IdPs', () => {
  it('sends --token-param values, a repeated name as a list', async () => {
    const result = await runCli(
      [...basic(idp), '--token-param', 'tenant=acme', '--token-param', 'tenant=globex'],
      { env },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({ tenant: ['acme', 'globex'] });
  });

  it('reads a --token-param-secret value from its source and never prints it', async () => {
    const result = await runCli(
      [...basic(idp), '--token-param-secret', 'password=env:APP_PASSWORD'],
      {
        env: { ...env, APP_PASSWORD: appPassword },
      },
    );
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({ password: appPassword });
    // The value reached the IdP; it is in the token the IdP made, and nowhere else.
    expect(result.stderr).toBe('');
  });

  it('refuses a secret parameter value given on the command line, without echoing it', async () => {
    const result = await runCli(
      [...basic(idp), '--token-param-secret', `password=${appPassword}`],
      {
        env,
      },
    );
    expect(result.code).toBe(2);
    // A value with a `/` or `.` is taken for a file path (and not found); any other must name a
    // source. Either way the value itself is never read from argv nor repeated.
    expect(result.stderr).toMatch(
      /must name a source|cannot read the file named on the command line/,
    );
    expectNoSecrets(result, [appPassword]);
  });

  it('refuses a --token-param without a name, and a parameter the client owns', async () => {
    const unnamed = await runCli([...basic(idp), '--token-param', '=acme'], { env });
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('--token-param takes name=value');
    const owned = await runCli([...basic(idp), '--token-param', 'scope=orders:admin'], { env });
    expect(owned.code).toBe(2);
    expect(owned.stderr).toContain('cannot set `scope`');
  });

  it('sends the resource under --audience-parameter', async () => {
    const result = await runCli(
      [...basic(idp), '--audience-parameter', 'audience', '--resource', RESOURCES.es256],
      { env },
    );
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({ audience: RESOURCES.es256 });
  });

  it('passes --resource-as on: scope-default refuses scopes beside a resource before any request', async () => {
    const before = idp.count('/token', 'POST');
    const mixed = await runCli(
      [
        ...basic(idp),
        '--resource-as',
        'scope-default',
        '--scope',
        'orders:read',
        '--resource',
        RESOURCES.es256,
      ],
      { env },
    );
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain("under `resourceAs: 'scope-default'`");
    const bogus = await runCli([...basic(idp), '--resource-as', 'scope'], { env });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("`resourceAs` must be 'parameter' or 'scope-default'");
    expect(idp.count('/token', 'POST')).toBe(before);
  });

  it('refuses an unknown --profile with the closest name', async () => {
    const result = await runCli([...basic(idp), '--profile', 'okat'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("did you mean 'okta'?");
  });

  it('takes the request shape of --profile auth0: the secret in the body, the resource as audience', async () => {
    const result = await runCli(
      [
        'token',
        '--issuer',
        idp.issuer,
        '--client-id',
        CLIENTS.post.clientId,
        '--profile',
        'auth0',
        '--resource',
        RESOURCES.es256,
        '--raw',
      ],
      { env: { S2S_AUTH_CLIENT_SECRET: CLIENTS.post.clientSecret } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({
      audience: RESOURCES.es256,
      client_id: CLIENTS.post.clientId,
    });
  });

  it('makes a DPoP key of an algorithm the IdP lists: ES256 for an ES256-only IdP', async () => {
    const result = await runCli([...basic(es256Idp), '--dpop'], { env });
    expect(result.code).toBe(0);
    const request = es256Idp.requests.filter((r) => r.path === '/token').at(-1);
    expect((await verifyDpopProof(request?.headers.dpop)).header.alg).toBe('ES256');
  });

  it('takes --dpop-alg when the token endpoint is given and discovery is not read', async () => {
    const result = await runCli(
      [
        'token',
        '--token-endpoint',
        es256Idp.endpoints.token,
        '--client-id',
        CLIENTS.basic.clientId,
        '--dpop',
        '--dpop-alg',
        'ES256',
        '--raw',
      ],
      { env },
    );
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);
  });
});
