import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, importJWK, SignJWT, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, tempDir } from './run-cli.js';

let files: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  assertBuilt();
  files = await tempDir();
});
afterAll(() => files?.remove());

describe('s2s-auth keygen', () => {
  it('writes the private JWK with mode 600 and prints only the public one, kid = thumbprint', async () => {
    const out = join(files.dir, 'dpop.json');
    const result = await runCli(['keygen', '--out', out]);
    expect(result.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const privateJwk = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
    const publicJwk = JSON.parse(result.stdout) as Record<string, string>;
    expect(privateJwk).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      d: expect.any(String),
    });
    expect(publicJwk).not.toHaveProperty('d');
    expect(result.stdout).not.toContain(privateJwk.d);
    expect(result.stderr).not.toContain(privateJwk.d);
    const { kid, alg: _alg, use: _use, ...members } = publicJwk;
    expect(kid).toBe(await calculateJwkThumbprint(members as never));
    // The two halves belong together: a signature by one verifies with the other.
    const jwt = await new SignJWT({ sub: 'keygen-pair' })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(await importJWK(privateJwk, 'ES256'));
    const verified = await jwtVerify(jwt, await importJWK(publicJwk, 'ES256'));
    expect(verified.protectedHeader).toEqual({ alg: 'ES256' });
    expect(verified.payload).toEqual({ sub: 'keygen-pair' });
  });

  it.each([
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
    ['RS256', { kty: 'RSA' }],
    ['PS256', { kty: 'RSA' }],
    ['ES384', { kty: 'EC', crv: 'P-384' }],
  ] as const)('makes %s keys', async (alg, shape) => {
    const out = join(files.dir, `key-${alg}.json`);
    const result = await runCli([
      'keygen',
      '--alg',
      alg,
      '--for',
      'private_key_jwt',
      '--out',
      out,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as {
      publicJwk: Record<string, unknown>;
      thumbprint: string;
      privateKeyFile: string;
    };
    expect(printed.publicJwk).toMatchObject({ ...shape, alg });
    expect(printed.privateKeyFile).toBe(out);
    expect(printed.thumbprint).toBe(printed.publicJwk.kid);
  });

  it('never overwrites an existing file', async () => {
    const out = await files.write('existing.json', 'keep me');
    const result = await runCli(['keygen', '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/exists; remove it or choose another --out/);
    expect(await readFile(out, 'utf8')).toBe('keep me');
  });

  it('refuses an unknown algorithm and a missing --out', async () => {
    const bad = await runCli(['keygen', '--alg', 'HS256', '--out', join(files.dir, 'x.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--alg must be one of/);
    const missing = await runCli(['keygen']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--out is required/);
  });
});
