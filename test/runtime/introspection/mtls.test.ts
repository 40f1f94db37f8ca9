/**
 * `introspectToken` and `revokeToken` over mutual TLS (RFC 8705 §2): the TLS methods send only
 * `client_id`, go to the `mtls_endpoint_aliases` of discovery (§5), and take `tls` or a `fetch`
 * that presents the certificate, never both, and never a client secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introspectToken, revokeToken } from '../../../src/server.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';
import { fakeFetch, json, type SeenRequest } from '../fake-fetch.js';
import { optionErrorOf } from '../../support/caught.js';

const issuer = 'https://idp.example.test';
const mtlsOrigin = 'https://mtls.idp.example.test';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());

/** An authorization server publishing aliases (or not), answering on both origins. */
function authorizationServer(aliases: Record<string, string> | undefined) {
  return fakeFetch((request: SeenRequest) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/.well-known/oauth-authorization-server') {
      return json({
        issuer,
        token_endpoint: `${issuer}/token`,
        introspection_endpoint: `${issuer}/introspect`,
        revocation_endpoint: `${issuer}/revoke`,
        ...(aliases === undefined ? {} : { mtls_endpoint_aliases: aliases }),
      });
    }
    if (pathname === '/introspect') return json({ active: true, client_id: 'billing' });
    if (pathname === '/revoke') return new Response(null, { status: 200 });
    return json({ error: 'not_found' }, 404);
  });
}

const aliases = {
  introspection_endpoint: `${mtlsOrigin}/introspect`,
  revocation_endpoint: `${mtlsOrigin}/revoke`,
};
const caller = { issuer, clientId: 'orders-api', token: 'opaque-1' };

async function rejectionOf(promise: Promise<unknown>): Promise<OptionError> {
  const failure = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  return optionErrorOf(() => {
    throw failure;
  });
}

describe('introspectToken with a TLS method', () => {
  for (const clientAuth of ['tls_client_auth', 'self_signed_tls_client_auth'] as const) {
    it(`sends ${clientAuth} to the mTLS alias with client_id only`, async () => {
      const fetch = authorizationServer(aliases);
      await expect(introspectToken({ ...caller, clientAuth, fetch })).resolves.toEqual({
        active: true,
        client_id: 'billing',
      });
      const sent = fetch.seen.at(-1)!;
      expect(sent.url).toBe(`${mtlsOrigin}/introspect`);
      expect(sent.headers.get('authorization')).toBeNull();
      expect([...sent.form.keys()].sort()).toEqual(['client_id', 'token']);
      expect(sent.form.get('client_id')).toBe('orders-api');
    });
  }

  it('uses the plain endpoint when no alias is published, and an explicit one over the alias', async () => {
    const plain = authorizationServer(undefined);
    await introspectToken({ ...caller, clientAuth: 'tls_client_auth', fetch: plain });
    expect(plain.seen.at(-1)!.url).toBe(`${issuer}/introspect`);

    const aliased = authorizationServer(aliases);
    await introspectToken({
      ...caller,
      clientAuth: 'tls_client_auth',
      fetch: aliased,
      introspectionEndpoint: `${issuer}/introspect`,
    });
    expect(aliased.seen.map((request) => request.url)).toEqual([`${issuer}/introspect`]);
  });

  it('keeps the plain endpoint for a client that authenticates with its secret', async () => {
    const fetch = authorizationServer(aliases);
    await introspectToken({ ...caller, clientSecret: 's3cret', fetch });
    expect(fetch.seen.at(-1)!.url).toBe(`${issuer}/introspect`);
    expect(fetch.seen.at(-1)!.headers.get('authorization')).toMatch(/^Basic /);
  });

  it('revokes through the revocation alias the same way', async () => {
    const fetch = authorizationServer(aliases);
    await revokeToken({ ...caller, clientAuth: 'self_signed_tls_client_auth', fetch });
    const sent = fetch.seen.at(-1)!;
    expect(sent.url).toBe(`${mtlsOrigin}/revoke`);
    expect(sent.headers.get('authorization')).toBeNull();
    expect([...sent.form.keys()].sort()).toEqual(['client_id', 'token']);
  });
});

describe('the mutual TLS options of introspectToken', () => {
  const fetch = authorizationServer(aliases);
  const tls = () => ({ cert: pki.client.cert, key: pki.client.key });

  it('refuses a client secret beside a TLS method, where it would be sent nowhere', async () => {
    const error = await rejectionOf(
      introspectToken({ ...caller, clientAuth: 'tls_client_auth', clientSecret: 's3cret', fetch }),
    );
    expect(error.option).toBe('clientSecret');
    expect(error.message).toMatch(/not used by tls_client_auth/);
    expect(error.message).not.toContain('s3cret');
    expect(fetch.seen).toHaveLength(0);
  });

  it('requires tls with a TLS method unless a fetch is given', async () => {
    const error = await rejectionOf(introspectToken({ ...caller, clientAuth: 'tls_client_auth' }));
    expect(error.option).toBe('tls');
    expect(error.message).toMatch(/`tls` \(the client certificate and key\) is required/);
  });

  it('refuses tls together with fetch', async () => {
    const error = await rejectionOf(
      introspectToken({ ...caller, clientAuth: 'tls_client_auth', tls: tls(), fetch }),
    );
    expect(error.option).toBe('tls');
    expect(error.message).toMatch(/give `tls` or a `fetch`/);
  });

  it('refuses tls with a method that does not authenticate by certificate', async () => {
    const error = await rejectionOf(
      revokeToken({ ...caller, clientSecret: 's3cret', tls: tls(), fetch }),
    );
    expect(error.option).toBe('tls');
    expect(error.message).toMatch(/applies with `clientAuth: 'tls_client_auth'`/);
  });

  it('refuses an unknown method, naming the ones it knows', async () => {
    const error = await rejectionOf(
      introspectToken({
        ...caller,
        // @ts-expect-error -- not a method introspection knows
        clientAuth: 'private_key_jwt',
        fetch,
      }),
    );
    expect(error.option).toBe('clientAuth');
    expect(error.message).toMatch(/tls_client_auth, self_signed_tls_client_auth/);
  });

  it('refuses a tls option it cannot use, without quoting the key', async () => {
    const swapped = await rejectionOf(
      introspectToken({
        ...caller,
        clientAuth: 'tls_client_auth',
        tls: { cert: pki.client.key, key: pki.client.cert },
      }),
    );
    expect(swapped.option).toBe('tls.cert');
    expect(swapped.message).not.toContain(pki.client.key.split('\n')[1]);
    const unknown = await rejectionOf(
      introspectToken({
        ...caller,
        clientAuth: 'tls_client_auth',
        // @ts-expect-error -- node:tls takes a passphrase, the SDK does not
        tls: { ...tls(), passphrase: 'x' },
      }),
    );
    expect(unknown.code).toBe('ERR_UNKNOWN_OPTION');
  });

  it('still requires the client secret of the secret methods', async () => {
    await expect(introspectToken({ ...caller, fetch })).rejects.toThrow(
      /`clientSecret` must be a non-empty string/,
    );
  });
});
