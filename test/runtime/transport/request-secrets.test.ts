/**
 * What a request carries that must never come back out: the credentials of its `Authorization`
 * and `DPoP` headers and the secret members of its form body. idp-client.test.ts checks that a
 * server echoing all of it back is scrubbed, end to end.
 */
import { describe, expect, it } from 'vitest';
import { basicCredentials } from '../../../src/runtime/shared/form.js';
import { requestSecrets } from '../../../src/runtime/transport/request-secrets.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('requestSecrets', () => {
  it('takes a Basic header whole, its credential, and the decoded client id and secret', () => {
    const header = basicCredentials('svc one', 'p+ss/w=rd €');
    const secrets = requestSecrets(new Headers({ authorization: header }), undefined);
    expect(secrets).toEqual([
      header,
      header.slice('Basic '.length),
      { user: 'svc one', password: 'p+ss/w=rd €' },
    ]);
  });

  it('takes a Bearer or DPoP token and a DPoP proof, each whole and without its scheme', () => {
    const secrets = requestSecrets(
      new Headers({ authorization: 'DPoP access-token-value', dpop: 'proof.jwt.value' }),
      undefined,
    );
    expect(secrets).toEqual([
      'DPoP access-token-value',
      'access-token-value',
      'proof.jwt.value',
      'proof.jwt.value',
    ]);
  });

  it('keeps a Basic header that is not base64 as it is', () => {
    expect(requestSecrets(new Headers({ authorization: 'Basic %%%' }), undefined)).toEqual([
      'Basic %%%',
      '%%%',
    ]);
  });

  it('takes every credential and token member of a form body, and nothing else', () => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: 'the-secret',
      client_assertion: 'a.b.c',
      subject_token: 'subject',
      actor_token: 'actor',
      scope: 'orders:read',
    }).toString();
    expect(requestSecrets(new Headers(form), body)).toEqual([
      'the-secret',
      'a.b.c',
      'subject',
      'actor',
    ]);
  });

  it('reads a body as a form only when it is sent as one', () => {
    const body = 'client_secret=the-secret';
    expect(requestSecrets(new Headers({ 'content-type': 'application/json' }), body)).toEqual([]);
    expect(requestSecrets(new Headers(), body)).toEqual([]);
  });
});
