/**
 * `s2s-auth exchange` (RFC 8693) run as a process against the dev IdP (`src/cli/dev-idp.ts`,
 * oidc-provider on 127.0.0.1 with the token-exchange grant of `src/cli/token-exchange-grant.ts`):
 * the subject token is one the dev IdP issued, and what comes back is checked by introspection
 * or by decoding it.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, TokenTypes } from '../../src/client.js';
import {
  DEV_CLIENT,
  DEV_INTROSPECTOR,
  LEDGER_API,
  ORDERS_API,
  startDevIdp,
  type DevIdp,
} from '../../src/cli/dev-idp.js';
import { introspectToken, revokeToken } from '../../src/server.js';
import { assertBuilt, expectNoSecrets, runCli, tempDir, type CliResult } from './run-cli.js';

let idp: DevIdp;
let files: Awaited<ReturnType<typeof tempDir>>;
/** A JWT access token of the dev IdP for the orders service, scope orders:read. */
let ordersToken: string;

beforeAll(async () => {
  assertBuilt();
  idp = await startDevIdp();
  files = await tempDir();
  ordersToken = await client().getAccessToken({ scope: 'orders:read', resource: ORDERS_API });
});
afterAll(async () => {
  await idp?.close();
  await files?.remove();
});

function client() {
  return createAuthClient({ issuer: idp.issuer, ...DEV_CLIENT });
}

const exchange = (...options: string[]) => [
  'exchange',
  '--issuer',
  idp.issuer,
  '--client-id',
  DEV_CLIENT.clientId,
  ...options,
];
const env = (extra: Record<string, string> = {}) => ({
  S2S_AUTH_CLIENT_SECRET: DEV_CLIENT.clientSecret,
  CALLER_TOKEN: ordersToken,
  ...extra,
});

function introspect(token: string) {
  return introspectToken({ issuer: idp.issuer, ...DEV_INTROSPECTOR, token });
}

/** Exit 3 with the OAuth error on one line, and neither the token nor the secret printed. */
function expectRefused(result: CliResult, error: string, secrets: readonly string[]): void {
  expect(result.code).toBe(3);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toContain(`the authorization server refused the request: ${error}`);
  expectNoSecrets(result, [...secrets, DEV_CLIENT.clientSecret]);
}

/** A usage error (exit 2) on one line, before anything is sent. */
function expectUsage(result: CliResult, message: string | RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

describe('s2s-auth exchange', () => {
  it("exchanges a caller's orders token for a ledger token, and prints the answer as JSON", async () => {
    const result = await runCli(
      exchange('--subject-token', 'env:CALLER_TOKEN', '--resource', LEDGER_API),
      { env: env() },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(answer).toMatchObject({
      issued_token_type: TokenTypes.accessToken,
      token_type: 'Bearer',
      scope: 'ledger:read',
      expires_at: expect.any(Number),
    });
    await expect(introspect(answer.access_token as string)).resolves.toMatchObject({
      active: true,
      aud: LEDGER_API,
      scope: 'ledger:read',
      client_id: DEV_CLIENT.clientId,
      act: { sub: DEV_CLIENT.clientId },
    });
    expectNoSecrets(result, [ordersToken, DEV_CLIENT.clientSecret]);
  });

  it('prints only the token with --raw, the subject token read from a file', async () => {
    const path = await files.write('caller-token', `${ordersToken}\n`);
    const result = await runCli(
      exchange('--subject-token', `file:${path}`, '--audience', LEDGER_API, '--raw'),
      { env: env() },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\n$/);
    await expect(introspect(result.stdout.trim())).resolves.toMatchObject({ active: true });
  });

  it('narrows the scope to the one asked for, from those the target takes', async () => {
    const wide = await runCli(exchange('--subject-token', '-', '--resource', ORDERS_API, '--raw'), {
      env: env(),
      stdin: ordersToken,
    });
    expect(wide.code).toBe(0);
    expect(decodeJwt(wide.stdout.trim()).scope).toBe('orders:read orders:write');

    const narrow = await runCli(
      exchange(
        '--subject-token',
        'env:CALLER_TOKEN',
        '--resource',
        ORDERS_API,
        '--scope',
        'orders:read ledger:read',
        '--raw',
      ),
      { env: env() },
    );
    expect(narrow.code).toBe(0);
    expect(decodeJwt(narrow.stdout.trim())).toMatchObject({
      aud: ORDERS_API,
      scope: 'orders:read',
      sub: DEV_CLIENT.clientId,
      act: { sub: DEV_CLIENT.clientId },
    });
  });

  it('issues a token that expires no later than the subject token', async () => {
    const subject = await client().getAccessToken({ scope: 'orders:read', resource: ORDERS_API });
    // Both lifetimes are 300 s: a token issued a second later would outlive the subject's.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await runCli(
      exchange('--subject-token', 'env:SUBJECT', '--resource', ORDERS_API, '--raw'),
      { env: env({ SUBJECT: subject }) },
    );
    expect(result.code).toBe(0);
    const exchanged = decodeJwt(result.stdout.trim());
    expect(exchanged.exp).toBeLessThanOrEqual(decodeJwt(subject).exp!);
    expect(exchanged.exp! - exchanged.iat!).toBeLessThan(300);
  });

  it('takes the short name of a token type or its whole URI', async () => {
    for (const type of ['jwt', TokenTypes.jwt, 'access_token']) {
      const result = await runCli(
        exchange(
          '--subject-token',
          'env:CALLER_TOKEN',
          '--subject-token-type',
          type,
          '--requested-token-type',
          'access_token',
          '--resource',
          LEDGER_API,
        ),
        { env: env() },
      );
      expect(result.code).toBe(0);
    }
  });

  it('sends an actor token for delegation, and the issued token names the actor', async () => {
    const actor = await client().getAccessToken({ scope: 'ledger:read', resource: LEDGER_API });
    const result = await runCli(
      exchange(
        '--subject-token',
        'env:CALLER_TOKEN',
        '--actor-token',
        'env:ACTOR_TOKEN',
        '--actor-token-type',
        'access_token',
        '--resource',
        LEDGER_API,
        '--raw',
      ),
      { env: env({ ACTOR_TOKEN: actor }) },
    );
    expect(result.code).toBe(0);
    await expect(introspect(result.stdout.trim())).resolves.toMatchObject({
      active: true,
      act: { sub: DEV_CLIENT.clientId },
    });
    expectNoSecrets(result, [actor, ordersToken]);
  });

  it('binds the exchanged token to a DPoP key with --dpop', async () => {
    const result = await runCli(
      exchange('--subject-token', 'env:CALLER_TOKEN', '--resource', LEDGER_API, '--dpop'),
      { env: env() },
    );
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { token_type: string; access_token: string };
    expect(answer.token_type).toBe('DPoP');
    const claims = await introspect(answer.access_token);
    expect(claims.cnf?.jkt).toMatch(/^[\w-]{43}$/);
  });
});

describe('the dev IdP refuses an exchange', () => {
  /** Exchanges the caller's orders token with `options`, and checks the IdP refused it with `error`. */
  async function expectCallerTokenRefused(options: string[], error: string): Promise<void> {
    const result = await runCli(exchange('--subject-token', 'env:CALLER_TOKEN', ...options), {
      env: env(),
    });
    expectRefused(result, error, [ordersToken]);
  }

  it('of a token it did not issue: a JWT with another signature', async () => {
    const forged = `${ordersToken.slice(0, ordersToken.lastIndexOf('.') + 1)}${'A'.repeat(86)}`;
    const result = await runCli(
      exchange('--subject-token', 'env:FORGED', '--resource', LEDGER_API),
      { env: env({ FORGED: forged }) },
    );
    expectRefused(result, 'invalid_request', [forged, ordersToken]);
  });

  it('of an opaque token once it is revoked', async () => {
    const opaque = await client().getAccessToken({ scope: 'ledger:read', resource: LEDGER_API });
    const before = await runCli(
      exchange('--subject-token', 'env:OPAQUE', '--resource', ORDERS_API, '--raw'),
      { env: env({ OPAQUE: opaque }) },
    );
    expect(before.code).toBe(0);
    await revokeToken({ issuer: idp.issuer, ...DEV_CLIENT, token: opaque });
    const after = await runCli(
      exchange('--subject-token', 'env:OPAQUE', '--resource', ORDERS_API),
      { env: env({ OPAQUE: opaque }) },
    );
    expectRefused(after, 'invalid_request', [opaque]);
  });

  it('of a token type it does not take', async () => {
    await expectCallerTokenRefused(
      ['--subject-token-type', 'saml2', '--resource', LEDGER_API],
      'invalid_request',
    );
  });

  it('for a target it does not know, for two targets, or for none', async () => {
    for (const targets of [
      ['--audience', 'https://payroll.example.test/'],
      ['--audience', LEDGER_API, '--resource', ORDERS_API],
      [],
    ]) {
      await expectCallerTokenRefused(targets, 'invalid_target');
    }
  });

  it('for a scope the client may not have, or one the target does not take', async () => {
    await expectCallerTokenRefused(
      ['--resource', LEDGER_API, '--scope', 'ledger:read admin'],
      'invalid_scope',
    );
    await expectCallerTokenRefused(
      ['--resource', LEDGER_API, '--scope', 'orders:read'],
      'invalid_scope',
    );
  });

  it('for a token type it cannot issue', async () => {
    await expectCallerTokenRefused(
      ['--requested-token-type', 'id_token', '--resource', LEDGER_API],
      'invalid_request',
    );
  });

  it('with an actor token type but no actor token', async () => {
    // The CLI and the SDK refuse this before sending it: a plain request shows the IdP does too.
    const response = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${DEV_CLIENT.clientId}:${DEV_CLIENT.clientSecret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: ordersToken,
        subject_token_type: TokenTypes.accessToken,
        actor_token_type: TokenTypes.accessToken,
        resource: LEDGER_API,
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'invalid_request',
      error_description: 'actor_token_type is only allowed with actor_token',
    });
  });

  it('for a client that authenticates wrongly', async () => {
    const result = await runCli(
      exchange('--subject-token', 'env:CALLER_TOKEN', '--resource', LEDGER_API),
      { env: env({ S2S_AUTH_CLIENT_SECRET: 'not-the-secret' }) },
    );
    expectRefused(result, 'invalid_client', [ordersToken, 'not-the-secret']);
  });
});

describe('s2s-auth exchange usage errors', () => {
  it('requires --subject-token', async () => {
    const result = await runCli(exchange('--resource', LEDGER_API), { env: env() });
    expectUsage(result, /--subject-token is required/);
  });

  it('refuses a subject or actor token given on the command line, without repeating it', async () => {
    for (const option of ['--subject-token', '--actor-token']) {
      const args =
        option === '--subject-token'
          ? exchange(option, ordersToken)
          : exchange('--subject-token', 'env:CALLER_TOKEN', option, ordersToken);
      const result = await runCli([...args, '--resource', LEDGER_API], { env: env() });
      expectUsage(result, /token must name a source/);
      expectNoSecrets(result, [ordersToken]);
    }
  });

  it('refuses an unknown token type without repeating it', async () => {
    const result = await runCli(
      exchange('--subject-token', 'env:CALLER_TOKEN', '--subject-token-type', 'access token'),
      { env: env() },
    );
    expectUsage(
      result,
      /--subject-token-type must be one of access_token, refresh_token, id_token, jwt, saml1, saml2, or an absolute URI/,
    );
    expect(result.stderr).not.toContain('access token');
  });

  it('refuses --actor-token-type without --actor-token', async () => {
    const result = await runCli(
      exchange('--subject-token', 'env:CALLER_TOKEN', '--actor-token-type', 'jwt'),
      { env: env() },
    );
    expectUsage(result, /--actor-token-type applies only with --actor-token/);
  });

  it('refuses the subject and actor tokens both from standard input', async () => {
    const result = await runCli(
      exchange('--subject-token', '-', '--actor-token', '-', '--resource', LEDGER_API),
      { env: env(), stdin: ordersToken },
    );
    expectUsage(result, /cannot both come from standard input/);
  });

  it('refuses a positional argument', async () => {
    const result = await runCli(exchange('--subject-token', 'env:CALLER_TOKEN', 'extra'), {
      env: env(),
    });
    expectUsage(result, /takes no arguments besides options/);
  });
});
