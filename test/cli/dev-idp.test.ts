import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient } from '../../src/client.js';
import { createResourceServer, introspectToken } from '../../src/server.js';
import { assertBuilt, cliPath, runCli } from './run-cli.js';

let child: ChildProcessWithoutNullStreams | undefined;

beforeAll(() => assertBuilt());
afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'close');
  }
  child = undefined;
});

/** Starts `s2s-auth dev-idp` and resolves to what it printed on stdout once it listens. */
async function startDevIdp(args: string[]): Promise<string> {
  child = spawn(process.execPath, [cliPath, 'dev-idp', '--port', '0', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child?.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('listening on')) resolve();
    });
    child?.on('close', (code) => reject(new Error(`dev-idp exited ${code}: ${stderr}`)));
  });
  return stdout;
}

describe('s2s-auth dev-idp', () => {
  it('serves tokens to its printed client that a resource server verifies, and introspects opaque ones', async () => {
    const settings = JSON.parse(await startDevIdp([])) as {
      issuer: string;
      clientId: string;
      clientSecret: string;
      introspection: { clientId: string; clientSecret: string };
      resources: { jwt: string; opaque: string };
    };
    expect(settings.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = createAuthClient({
      issuer: settings.issuer,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
    });
    const token = await auth.getAccessToken({
      scope: 'orders:read',
      resource: settings.resources.jwt,
    });
    const server = createResourceServer({
      issuer: settings.issuer,
      audience: settings.resources.jwt,
    });
    await expect(
      server.verifyToken(token, { requiredScopes: ['orders:read'] }),
    ).resolves.toMatchObject({
      client_id: settings.clientId,
      scope: 'orders:read',
    });
    const opaque = await auth.getAccessToken({
      scope: 'ledger:read',
      resource: settings.resources.opaque,
    });
    const result = await introspectToken({
      issuer: settings.issuer,
      ...settings.introspection,
      token: opaque,
    });
    expect(result).toMatchObject({ active: true, client_id: settings.clientId });
  });

  it('prints environment variables with --print-env, and stops cleanly on SIGTERM', async () => {
    const out = await startDevIdp(['--print-env']);
    const lines = out.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^S2S_AUTH_ISSUER=http:\/\/127\.0\.0\.1:\d+$/),
      'S2S_AUTH_CLIENT_ID=billing-service',
      expect.stringMatching(/^S2S_AUTH_CLIENT_SECRET=\S+$/),
    ]);
    child?.kill('SIGTERM');
    const [code] = (await once(child!, 'close')) as [number];
    expect(code).toBe(0);
  });

  it('refuses a port that is not a number', async () => {
    const result = await runCli(['dev-idp', '--port', 'eighty']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--port must be a whole number/);
  });
});
