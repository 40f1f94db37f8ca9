import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MtlsUnavailableError, ProtocolError } from '../../../src/runtime/errors.js';
import {
  createMtlsFetch,
  mtlsEndpointMetadata,
  resolveTlsOptions,
} from '../../../src/runtime/transport/mtls.js';
import { publishedEndpoint } from '../../../src/runtime/transport/discovery.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki?.remove());
afterEach(() => {
  vi.unstubAllGlobals();
});

const where = 'createAuthClient';

function optionErrorOf(run: () => unknown): OptionError {
  try {
    run();
  } catch (failure) {
    expect(failure).toBeInstanceOf(OptionError);
    return failure as OptionError;
  }
  throw new Error('expected an OptionError');
}

/** A line from the middle of a PEM key: what must never show up anywhere. */
const keyLine = (key: string) => key.split('\n')[2]!;

/** Makes Node's module loader answer `require('undici')` with `load` (a missing or odd peer). */
function requireGives(load: () => unknown): () => void {
  const original = process.getBuiltinModule.bind(process);
  const spy = vi.spyOn(process, 'getBuiltinModule').mockImplementation((id: string) =>
    id === 'node:module'
      ? {
          createRequire: () => (name: string) =>
            name === 'undici'
              ? load()
              : (original('node:module').createRequire(import.meta.url)(name) as unknown),
        }
      : original(id),
  );
  return () => spy.mockRestore();
}

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

describe('createMtlsFetch', () => {
  it('holds the key out of sight: inspect and JSON of the fetch show none of it', () => {
    const fetch = createMtlsFetch({ cert: pki.client.cert, key: pki.client.key });
    expect(inspect(fetch, { showHidden: true, depth: 5 })).not.toContain(keyLine(pki.client.key));
    expect(JSON.stringify({ fetch })).toBe('{}');
  });

  it.each([
    ['Bun', 'Bun', /Bun takes client certificates in `fetch\(url, \{ tls \}\)`/],
    ['Deno', 'Deno', /Deno takes client certificates through `Deno.createHttpClient/],
  ])(
    'refuses to run on %s, where an undici agent would send no certificate',
    (_name, global, message) => {
      vi.stubGlobal(global, {});
      let failure: unknown;
      try {
        createMtlsFetch({ cert: pki.client.cert, key: pki.client.key });
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(MtlsUnavailableError);
      expect((failure as MtlsUnavailableError).code).toBe('mtls_unavailable');
      expect((failure as Error).message).toMatch(message);
      expect((failure as Error).message).toMatch(/pass a `fetch` that does mutual TLS instead$/);
    },
  );

  it('refuses to run on a runtime without Node built-ins (Workers, browsers)', () => {
    vi.stubGlobal('process', { ...process, getBuiltinModule: undefined });
    let failure: unknown;
    try {
      createMtlsFetch({ cert: pki.client.cert, key: pki.client.key });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(MtlsUnavailableError);
    expect((failure as Error).message).toMatch(/this runtime has no Node.js built-in modules/);
  });

  it('fails the first request with MtlsUnavailableError when undici cannot be loaded', async () => {
    const restore = requireGives(() => {
      throw new Error("Cannot find module 'undici'");
    });
    try {
      const fetch = createMtlsFetch({ cert: pki.client.cert, key: pki.client.key });
      const failure = await fetch(new Request('https://127.0.0.1:1/')).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(MtlsUnavailableError);
      expect((failure as MtlsUnavailableError).code).toBe('mtls_unavailable');
      expect((failure as Error).message).toMatch(
        /the optional peer `undici` is not installed \(npm install undici\)/,
      );
    } finally {
      restore();
    }
  });

  it('fails the first request with MtlsUnavailableError when undici has no Agent', async () => {
    const restore = requireGives(() => ({ Agent: undefined, fetch: globalThis.fetch }));
    try {
      const fetch = createMtlsFetch({ cert: pki.client.cert, key: pki.client.key });
      const failure = await fetch(new Request('https://127.0.0.1:1/')).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(MtlsUnavailableError);
      expect((failure as Error).message).toMatch(/has no `Agent` and `fetch`/);
    } finally {
      restore();
    }
  });

  it('validates tls before anything else', () => {
    const error = optionErrorOf(() => createMtlsFetch({ cert: pki.client.cert } as never));
    expect(error.option).toBe('tls.key');
  });
});

describe('mtlsEndpointMetadata (RFC 8705 §5)', () => {
  const metadata = {
    issuer: 'https://idp.example',
    token_endpoint: 'https://idp.example/token',
    introspection_endpoint: 'https://idp.example/introspect',
    revocation_endpoint: 'https://idp.example/revoke',
    jwks_uri: 'https://idp.example/jwks',
  };

  it('sends token, introspection and revocation requests to their aliases', () => {
    const chosen = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: {
        token_endpoint: 'https://mtls.idp.example/token',
        introspection_endpoint: 'https://mtls.idp.example/introspect',
        revocation_endpoint: 'https://mtls.idp.example/revoke',
        jwks_uri: 'https://mtls.idp.example/jwks',
      },
    });
    expect(chosen.token_endpoint).toBe('https://mtls.idp.example/token');
    expect(chosen.introspection_endpoint).toBe('https://mtls.idp.example/introspect');
    expect(chosen.revocation_endpoint).toBe('https://mtls.idp.example/revoke');
    // The key set is not fetched with the client certificate.
    expect(chosen.jwks_uri).toBe('https://idp.example/jwks');
    expect(chosen.issuer).toBe('https://idp.example');
  });

  it('keeps an endpoint that has no alias, and the document without aliases as it is', () => {
    const chosen = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: { token_endpoint: 'https://mtls.idp.example/token' },
    });
    expect(chosen.token_endpoint).toBe('https://mtls.idp.example/token');
    expect(chosen.revocation_endpoint).toBe('https://idp.example/revoke');
    expect(mtlsEndpointMetadata(metadata)).toBe(metadata);
  });

  it('refuses mtls_endpoint_aliases that is not an object (ProtocolError schema)', () => {
    for (const aliases of ['https://mtls.idp.example', ['x'], null]) {
      let failure: unknown;
      try {
        mtlsEndpointMetadata({ ...metadata, mtls_endpoint_aliases: aliases });
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(ProtocolError);
      expect((failure as ProtocolError).code).toBe('schema');
    }
  });

  it('leaves a bad alias to the check every published endpoint gets, so it is refused, not skipped', () => {
    const notUrl = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: { token_endpoint: 42 },
    });
    expect(() => publishedEndpoint(notUrl, 'token_endpoint', false)).toThrow(
      expect.objectContaining({ code: 'missing_endpoint' }),
    );
    const plainHttp = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: { token_endpoint: 'http://mtls.idp.example/token' },
    });
    expect(() => publishedEndpoint(plainHttp, 'token_endpoint', false)).toThrow(
      expect.objectContaining({ code: 'insecure_url' }),
    );
  });
});
