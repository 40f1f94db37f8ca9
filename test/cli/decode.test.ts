import { importJWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken, RESOURCES, SCOPES, startIdp, type TestIdp } from '../support/idp.js';
import { assertBuilt, runCli } from './run-cli.js';

let idp: TestIdp;

beforeAll(async () => {
  assertBuilt();
  idp = await startIdp({ accessTokenTTL: 250 });
});
afterAll(() => idp?.close());

describe('s2s-auth decode', () => {
  it('prints header, claims and times, and says first that nothing was verified', async () => {
    const token = await mintAccessToken(idp, { scope: SCOPES.ordersRead, resource: RESOURCES.jwt });
    const result = await runCli(['decode', '-'], { stdin: token });
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^NOT VERIFIED: /);
    expect(result.stdout).toContain('"typ": "at+jwt"');
    expect(result.stdout).toContain(`"aud": "${RESOURCES.jwt}"`);
    expect(result.stdout).toMatch(
      /^exp {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}\(expires in 4m \d+s\)$/m,
    );
    expect(result.stdout).toMatch(/^iat {2}.* UTC {2}\(issued (now|\d+s ago)\)$/m);
  });

  it('says how long ago an expired token expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = new UnsecuredJWT({ iat: now - 600, exp: now - 185 }).encode();
    const result = await runCli(['decode'], { env: { S2S_AUTH_TOKEN: expired } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\(expired 3m \d+s ago\)/);
    expect(result.stdout).toMatch(/\(issued 10m( \d+s)? ago\)/);
  });

  it('prints { verified: false, header, claims, times } with --json', async () => {
    const key = await importJWK(
      idp.keys.find((k) => k.alg === 'ES256')!,
      'ES256',
    );
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = await new SignJWT({ sub: 'svc', exp })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(key);
    const result = await runCli(['decode', '--token-stdin', '--json'], { stdin: token });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      verified: false,
      header: { alg: 'ES256', kid: 'k1' },
      claims: { sub: 'svc', exp },
      times: [
        {
          claim: 'exp',
          epoch: exp,
          utc: expect.stringMatching(/ UTC$/),
          relative: expect.stringMatching(/^expires in (1h|59m \d+s)$/),
        },
      ],
    });
  });

  it('exits 1 for something that is not a JWT', async () => {
    for (const input of ['hello', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln']) {
      const result = await runCli(['decode', '-'], { stdin: input });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        's2s-auth decode: not a JWT (expected three base64url parts with a JSON header and claims)',
      );
      expect(result.stdout).toBe('');
    }
  });
});
