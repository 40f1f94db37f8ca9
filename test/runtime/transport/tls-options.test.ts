/**
 * The \`tls\` option of mutual TLS: PEM certificates and keys are checked when given, and what
 * is refused is named by its member and the kind of PEM block, never by its content.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTlsOptions } from '../../../src/runtime/transport/tls-options.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';
import { optionErrorOf } from '../../support/caught.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki?.remove());

const where = 'createAuthClient';

/** A line from the middle of a PEM key: what must never show up anywhere. */
const keyLine = (key: string) => key.split('\n')[2]!;

describe('resolveTlsOptions', () => {
  it('takes PEM strings and buffers for cert, key and ca', () => {
    const resolved = resolveTlsOptions(
      {
        cert: Buffer.from(pki.client.cert),
        key: Buffer.from(pki.client.key),
        ca: [pki.ca.cert, Buffer.from(pki.ca.cert)],
      },
      where,
    );
    expect(resolved.cert).toBe(pki.client.cert);
    expect(resolved.key).toBe(pki.client.key);
    expect(resolved.ca).toEqual([pki.ca.cert, pki.ca.cert]);
  });

  it('takes a certificate followed by its chain', () => {
    const cert = `${pki.client.cert}${pki.ca.cert}`;
    expect(resolveTlsOptions({ cert, key: pki.client.key }, where).cert).toBe(cert);
  });

  it('refuses an unknown member, suggesting the one meant', () => {
    const error = optionErrorOf(() =>
      resolveTlsOptions({ certs: pki.client.cert, key: pki.client.key }, where),
    );
    expect(error.code).toBe('ERR_UNKNOWN_OPTION');
    expect(error.option).toBe('tls.certs');
    expect(error.suggestion).toBe('tls.cert');
  });

  it('refuses options node:tls has but the SDK does not take (passphrase, pfx)', () => {
    for (const extra of ['passphrase', 'pfx']) {
      const error = optionErrorOf(() =>
        resolveTlsOptions({ cert: pki.client.cert, key: pki.client.key, [extra]: 'x' }, where),
      );
      expect(error.code).toBe('ERR_UNKNOWN_OPTION');
      expect(error.option).toBe(`tls.${extra}`);
    }
  });

  it('refuses a tls that is not an object', () => {
    const error = optionErrorOf(() => resolveTlsOptions(pki.client.cert, where));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.option).toBe('tls');
    expect(error.message).not.toContain('BEGIN');
  });

  it('requires cert and key', () => {
    expect(optionErrorOf(() => resolveTlsOptions({ key: pki.client.key }, where)).option).toBe(
      'tls.cert',
    );
    expect(optionErrorOf(() => resolveTlsOptions({ cert: pki.client.cert }, where)).option).toBe(
      'tls.key',
    );
  });

  it('refuses cert and key swapped, naming what it found and never quoting the key', () => {
    const error = optionErrorOf(() =>
      resolveTlsOptions({ cert: pki.client.key, key: pki.client.cert }, where),
    );
    expect(error.option).toBe('tls.cert');
    expect(error.message).toBe(
      'createAuthClient: `tls.cert` must be PEM CERTIFICATE blocks; found a private key',
    );
    expect(inspect(error)).not.toContain(keyLine(pki.client.key));
  });

  it('refuses a key that is a certificate', () => {
    const error = optionErrorOf(() =>
      resolveTlsOptions({ cert: pki.client.cert, key: pki.client.cert }, where),
    );
    expect(error.option).toBe('tls.key');
    expect(error.message).toMatch(/found a CERTIFICATE block$/);
  });

  it('refuses an encrypted key, saying to decrypt it', () => {
    const encrypted =
      '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n';
    const error = optionErrorOf(() =>
      resolveTlsOptions({ cert: pki.client.cert, key: encrypted }, where),
    );
    expect(error.option).toBe('tls.key');
    expect(error.message).toMatch(/an encrypted key \(decrypt it first/);
  });

  it('refuses a file path given in place of PEM text', () => {
    const error = optionErrorOf(() =>
      resolveTlsOptions({ cert: '/etc/ssl/client.pem', key: pki.client.key }, where),
    );
    expect(error.option).toBe('tls.cert');
    expect(error.message).toMatch(/found no PEM block, or a broken one$/);
  });

  it('refuses a certificate followed by a chain cut short', () => {
    const cut = pki.ca.cert.slice(0, pki.ca.cert.indexOf('-----END'));
    const error = optionErrorOf(() =>
      resolveTlsOptions({ cert: `${pki.client.cert}${cut}`, key: pki.client.key }, where),
    );
    expect(error.option).toBe('tls.cert');
    expect(error.message).toMatch(/found no PEM block, or a broken one$/);
  });

  it('refuses a key that does not belong to the certificate', () => {
    const error = optionErrorOf(() =>
      resolveTlsOptions({ cert: pki.client.cert, key: pki.otherClient.key }, where),
    );
    expect(error.option).toBe('tls.key');
    expect(error.message).toBe(
      'createAuthClient: `tls.key` is not the private key of the certificate in `tls.cert`',
    );
    expect(inspect(error)).not.toContain(keyLine(pki.otherClient.key));
  });

  it('refuses a ca entry that is not a certificate, by index, and an empty ca list', () => {
    const bad = optionErrorOf(() =>
      resolveTlsOptions(
        { cert: pki.client.cert, key: pki.client.key, ca: [pki.ca.cert, pki.ca.key] },
        where,
      ),
    );
    expect(bad.option).toBe('tls.ca[1]');
    expect(bad.message).toMatch(/found a private key$/);
    const empty = optionErrorOf(() =>
      resolveTlsOptions({ cert: pki.client.cert, key: pki.client.key, ca: [] }, where),
    );
    expect(empty.option).toBe('tls.ca');
  });

  it('refuses a number or an object where PEM is expected', () => {
    const error = optionErrorOf(() => resolveTlsOptions({ cert: 42, key: pki.client.key }, where));
    expect(error.message).toBe(
      'createAuthClient: `tls.cert` must be PEM text (a string or a Buffer), not a number',
    );
  });
});
