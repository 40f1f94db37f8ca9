/**
 * The `fetch` that presents a client certificate: undici found at run time, runtimes that
 * cannot present one through it refused, and nothing of the key in any error or inspect output.
 * The option it is made from is tested in tls-options.test.ts.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MtlsUnavailableError } from '../../../src/runtime/errors.js';
import { createMtlsFetch } from '../../../src/runtime/transport/mtls.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';
import { optionErrorOf, thrownBy } from '../../support/caught.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki?.remove());
afterEach(() => {
  vi.unstubAllGlobals();
});

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
      const failure = thrownBy(
        () => createMtlsFetch({ cert: pki.client.cert, key: pki.client.key }),
        MtlsUnavailableError,
      );
      expect(failure.code).toBe('mtls_unavailable');
      expect(failure.message).toMatch(message);
      expect(failure.message).toMatch(/pass a `fetch` that does mutual TLS instead$/);
    },
  );

  it('refuses to run on a runtime without Node built-ins (Workers, browsers)', () => {
    vi.stubGlobal('process', { ...process, getBuiltinModule: undefined });
    const failure = thrownBy(
      () => createMtlsFetch({ cert: pki.client.cert, key: pki.client.key }),
      MtlsUnavailableError,
    );
    expect(failure.message).toMatch(/this runtime has no Node.js built-in modules/);
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
