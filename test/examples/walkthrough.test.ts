/**
 * Runs the README's main job, `examples/dpop-walkthrough.mjs`, as a user would (against the
 * built package) and checks what it prints.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let output = '';

/** The value printed after `label` in the numbered step `n`. */
function value(n: number, label: string): string | undefined {
  const section = output.split(/\n(?=\d+\. )/).find((part) => part.startsWith(`${n}. `)) ?? '';
  const line = section.split('\n').find((l) => l.trim().startsWith(label));
  return line?.trim().slice(label.length).trim();
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['examples/dpop-walkthrough.mjs'],
    {
      cwd: root,
      timeout: 60_000,
    },
  );
  output = stdout;
}, 90_000);

describe('the DPoP walkthrough example', () => {
  it('discovers the IdP and mints a DPoP token with the requested scope', () => {
    expect(value(3, 'token_endpoint')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/token$/);
    expect(value(3, 'token_type')).toBe('DPoP');
    expect(value(3, 'scope')).toBe('orders:read');
    expect(value(3, 'IdP token calls')).toBe('1');
  });

  it('serves the second getToken from the cache', () => {
    expect(value(4, 'same token')).toBe('true');
    expect(value(4, 'IdP token calls')).toBe('1');
  });

  it('shows the token bound to the proof key', () => {
    const thumbprint = value(5, 'key thumbprint');
    expect(thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(value(5, 'token cnf.jkt')).toBe(thumbprint);
    expect(value(6, 'verified cnf.jkt')).toBe(thumbprint);
  });

  it('gets through to the protected service and back with verified claims', () => {
    expect(value(6, 'status')).toBe('200');
    expect(value(6, 'verified scope')).toBe('orders:read');
  });

  it('shows a DPoP token used as Bearer and a forged token refused with their reasons', () => {
    expect(value(7, 'status')).toBe('401');
    expect(value(7, 'reason')).toBe('dpop');
    expect(value(8, 'status')).toBe('401');
    expect(value(8, 'reason')).toBe('signature');
  });

  it('introspects a token as active, then inactive after revocation', () => {
    expect(value(9, 'active')).toBe('true');
    expect(value(10, 'active')).toBe('false');
  });

  it('exchanges the orders token for a ledger token the ledger accepts, and refuses the orders token there', () => {
    expect(value(11, 'issued_token_type')).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(value(11, 'token_type')).toBe('Bearer');
    expect(value(11, 'scope')).toBe('ledger:read');
    expect(value(11, 'ledger accepts')).toBe('aud https://ledger.example.test/, scope ledger:read');
    expect(value(11, 'act.sub')).toBe('billing-service');
    expect(value(11, 'orders token')).toBe('refused by the ledger (reason audience)');
  });

  it('never prints a whole token', () => {
    expect(output).not.toMatch(/[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/);
    expect(output).toContain('Done.');
  });
});
