import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENTS,
  mintAccessToken,
  RESOURCES,
  SCOPES,
  startIdp,
  type TestIdp,
} from '../support/idp.js';
import { assertBuilt, expectNoSecrets, runCli } from './run-cli.js';

let idp: TestIdp;

beforeAll(async () => {
  assertBuilt();
  idp = await startIdp();
});
afterAll(() => idp?.close());

const introspect = (...options: string[]) => [
  'introspect',
  ...options,
  '--issuer',
  idp.issuer,
  '--client-id',
  CLIENTS.resourceServer.clientId,
];
const callerEnv = () => ({ S2S_AUTH_CLIENT_SECRET: CLIENTS.resourceServer.clientSecret });

describe('s2s-auth introspect', () => {
  it('prints the answer and exits 0 for an active token', async () => {
    const token = await mintAccessToken(idp, {
      scope: SCOPES.ledgerRead,
      resource: RESOURCES.opaque,
    });
    const result = await runCli(introspect('-'), { stdin: token, env: callerEnv() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      active: true,
      client_id: CLIENTS.basic.clientId,
      scope: SCOPES.ledgerRead,
    });
    expectNoSecrets(result, [token, CLIENTS.resourceServer.clientSecret]);
  });

  it('takes the token from S2S_AUTH_TOKEN and the caller secret from stdin', async () => {
    const token = await mintAccessToken(idp, {
      scope: SCOPES.ledgerRead,
      resource: RESOURCES.opaque,
    });
    const result = await runCli(
      introspect('--client-secret', '-', '--token-type-hint', 'access_token'),
      {
        stdin: CLIENTS.resourceServer.clientSecret,
        env: { S2S_AUTH_TOKEN: token },
      },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ active: true });
  });

  it('exits 1 and prints { active: false } for an unknown token', async () => {
    const result = await runCli(introspect('env:LEAKED'), {
      env: { ...callerEnv(), LEAKED: 'no-such-token-4711' },
    });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ active: false });
    expectNoSecrets(result, ['no-such-token-4711']);
  });

  it('exits 3 when the IdP refuses the caller, and prints neither secret nor token', async () => {
    const token = await mintAccessToken(idp, {
      scope: SCOPES.ledgerRead,
      resource: RESOURCES.opaque,
    });
    const wrong = 'wrong-introspection-secret';
    const result = await runCli(introspect('-'), {
      stdin: token,
      env: { S2S_AUTH_CLIENT_SECRET: wrong },
    });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('invalid_client');
    expectNoSecrets(result, [wrong, token, CLIENTS.resourceServer.clientSecret]);
  });
});
