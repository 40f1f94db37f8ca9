/**
 * Where the CLI reads a secret or a token from, beyond `-`, `env:NAME` and `file:PATH`: a bare
 * file path, and, for `decode` only, the token itself. Each case runs the built command against
 * a real authorization server on 127.0.0.1 where one is needed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, verifyDpopProof } from '../support/dpop.js';
import {
  CLIENTS,
  mintAccessToken,
  RESOURCES,
  SCOPES,
  startIdp,
  type TestIdp,
} from '../support/idp.js';
import { assertBuilt, expectNoSecrets, runCli, tempDir } from './run-cli.js';

let idp: TestIdp;
let files: Awaited<ReturnType<typeof tempDir>>;
let jwtToken: string;
let opaqueToken: string;

beforeAll(async () => {
  assertBuilt();
  idp = await startIdp();
  files = await tempDir();
  jwtToken = await mintAccessToken(idp, { scope: SCOPES.ordersRead, resource: RESOURCES.jwt });
  opaqueToken = await mintAccessToken(idp, {
    scope: SCOPES.ledgerRead,
    resource: RESOURCES.opaque,
  });
});
afterAll(async () => {
  await idp?.close();
  await files?.remove();
});

const signatureOf = (token: string) => token.split('.')[2]!;

describe('a bare file path as a source', () => {
  it('gives verify and decode their token, with or without a directory in the path', async () => {
    const path = await files.write('access-token.txt', `${jwtToken}\n`);
    const verified = await runCli([
      'verify',
      path,
      '--issuer',
      idp.issuer,
      '--audience',
      RESOURCES.jwt,
    ]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ aud: RESOURCES.jwt });

    // Relative to the working directory, as a shell user types it.
    const decoded = await runCli(['decode', 'access-token.txt', '--json'], { cwd: files.dir });
    expect(decoded.stderr).toBe('');
    expect(decoded.code).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({
      verified: false,
      claims: { aud: RESOURCES.jwt },
    });
    expectNoSecrets(decoded, [jwtToken, signatureOf(jwtToken)]);
  });

  it('gives introspect both its token and the caller secret', async () => {
    const tokenPath = await files.write('opaque.txt', `${opaqueToken}\n`);
    const secretPath = await files.write(
      'ledger.secret',
      `${CLIENTS.resourceServer.clientSecret}\n`,
    );
    const result = await runCli([
      'introspect',
      tokenPath,
      '--issuer',
      idp.issuer,
      '--client-id',
      CLIENTS.resourceServer.clientId,
      '--client-secret',
      secretPath,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ active: true, scope: SCOPES.ledgerRead });
    expectNoSecrets(result, [opaqueToken, CLIENTS.resourceServer.clientSecret]);
  });

  it('gives token its client secret', async () => {
    const path = await files.write('billing.secret', `${CLIENTS.basic.clientSecret}\n`);
    const result = await runCli([
      'token',
      '--issuer',
      idp.issuer,
      '--client-id',
      CLIENTS.basic.clientId,
      '--client-secret',
      path,
      '--raw',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expectNoSecrets(result, [CLIENTS.basic.clientSecret]);
  });

  it('gives dpop-proof the access token its ath hashes', async () => {
    const accessToken = 'opaque-access-token-from-a-file-42';
    const path = await files.write('proof-token.txt', `${accessToken}\n`);
    const result = await runCli([
      'dpop-proof',
      '--htm',
      'GET',
      '--htu',
      'https://orders.example.test/orders',
      '--access-token',
      path,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const proof = await verifyDpopProof(result.stdout.trim());
    expect(proof.payload.ath).toBe(accessTokenHash(accessToken));
    expectNoSecrets(result, [accessToken]);
  });

  it('is not read when it is a bare word, even naming a file here: the error says file:NAME and repeats neither', async () => {
    // A word without `/` or `.` may be a secret typed in the wrong place: it is never read as a
    // file name, even when one of that name exists.
    const word = 'billing-secret-7f2c';
    const here = join(files.dir, 'bare-word');
    await mkdir(here);
    await files.write(join('bare-word', word), `${CLIENTS.basic.clientSecret}\n`);
    const result = await runCli(
      [
        'token',
        '--issuer',
        idp.issuer,
        '--client-id',
        CLIENTS.basic.clientId,
        '--client-secret',
        word,
      ],
      { cwd: here },
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      's2s-auth token: the client secret: to read the file of that name, write file: before it (a word without / or . is never taken for a file name, so a secret typed there is not read as one)\n',
    );
    expectNoSecrets(result, [word, CLIENTS.basic.clientSecret]);

    const missing = await runCli(['decode', 'no-such-word'], { cwd: here });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      's2s-auth decode: the token is neither a JWT nor a file path: name a file, -, env:NAME or file:PATH\n',
    );
    expectNoSecrets(missing, ['no-such-word']);
  });

  it('that is no file is refused without repeating the path', async () => {
    const secretLike = 'Zr8.pasted-secret_with-a-dot';
    const result = await runCli([
      'token',
      '--issuer',
      idp.issuer,
      '--client-id',
      CLIENTS.basic.clientId,
      '--client-secret',
      secretLike,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      's2s-auth token: the client secret: cannot read the file named on the command line (ENOENT)\n',
    );
    expectNoSecrets(result, [secretLike]);
  });
});

describe('a token on the command line', () => {
  it('is decoded by decode, which warns on stderr that shell history keeps it and prints no part of it', async () => {
    const result = await runCli(['decode', jwtToken]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^NOT VERIFIED: /);
    expect(result.stdout).toContain(`"aud": "${RESOURCES.jwt}"`);
    expect(result.stderr).toBe(
      's2s-auth decode: warning: a token given on the command line stays in shell history and process lists; read it from -, env:NAME or a file instead\n',
    );
    expectNoSecrets(result, [jwtToken, signatureOf(jwtToken)]);
  });

  it('still fails decode with exit 1 when it is not a JWT, without repeating it', async () => {
    const lookalike = 'eyJub3QiOiJqc29u.bm90LWpzb24.c2lnbmF0dXJlLXBhcnQ';
    const result = await runCli(['decode', lookalike]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      's2s-auth decode: not a JWT (expected three base64url parts with a JSON header and claims)',
    );
    expectNoSecrets(result, [lookalike, 'c2lnbmF0dXJlLXBhcnQ']);
  });

  it('is refused by verify, introspect and dpop-proof, which would send or sign with it', async () => {
    const commands = [
      ['verify', jwtToken, '--issuer', idp.issuer, '--audience', RESOURCES.jwt],
      [
        'introspect',
        jwtToken,
        '--issuer',
        idp.issuer,
        '--client-id',
        CLIENTS.resourceServer.clientId,
        '--client-secret',
        'env:SECRET',
      ],
      ['dpop-proof', '--htm', 'GET', '--htu', 'https://a.example/', '--access-token', jwtToken],
    ];
    for (const command of commands) {
      const result = await runCli(command, {
        env: { SECRET: CLIENTS.resourceServer.clientSecret },
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/the (access )?token must name a source/);
      expectNoSecrets(result, [jwtToken, signatureOf(jwtToken)]);
    }
  });
});
