/**
 * Reading the authorization server's answer: a 2xx body is held to its generated schema and a
 * non-2xx becomes an `OAuthError`, and neither keeps a value the request carried or the
 * server should not have sent. The transport that produces the answer is tested in
 * idp-client.test.ts, where whole echoed requests are scrubbed end to end.
 */
import { describe, expect, it } from 'vitest';
import * as schemas from '../../../src/generated/schemas.js';
import { OAuthError, ProtocolError } from '../../../src/runtime/errors.js';
import { parseBody, toOAuthError } from '../../../src/runtime/transport/idp-answer.js';
import {
  createIdpClient,
  type IdpAnswer,
  type IdpCall,
} from '../../../src/runtime/transport/idp-client.js';
import type { Secret } from '../../../src/runtime/shared/redact.js';

const secret = 'client-secret-under-test';

const idp: IdpCall = {
  client: createIdpClient(() => Promise.reject(new Error('no request is sent in these tests'))),
  url: 'https://idp.example.test/token?tenant=one#frag',
  endpoint: 'token endpoint',
  timeoutMs: 1000,
};

function answer(
  text: string,
  status = 200,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  secrets: readonly Secret[] = [secret],
): IdpAnswer {
  return { response: new Response(null, { status, headers }), text, secrets };
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, but it returned');
}

describe('parseBody', () => {
  it('gives back a body that meets its schema, unknown members of closed objects dropped', () => {
    const body = { access_token: 'at', token_type: 'Bearer', expires_in: 300 };
    const value = parseBody(answer(JSON.stringify(body)), schemas.TokenResponse, idp);
    expect(value).toMatchObject(body);
  });

  it('refuses a body that is not JSON with code not_json, naming its content type and length', () => {
    const error = caught(() =>
      parseBody(
        answer('<html>oops</html>', 200, { 'content-type': 'text/html' }),
        schemas.TokenResponse,
        idp,
      ),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      code: 'not_json',
      cause: { contentType: 'text/html', length: 17 },
    });
    expect((error as Error).message).toMatch(
      /token endpoint answered HTTP 200 with a body that is not JSON/,
    );
  });

  it('says when a body that is not JSON came with no content type', () => {
    const error = caught(() => parseBody(answer('nope', 200, {}), schemas.TokenResponse, idp));
    expect(error).toMatchObject({ code: 'not_json', cause: { contentType: 'no content type' } });
  });

  it('scrubs a content type that echoes a secret', () => {
    const error = caught(() =>
      parseBody(
        answer('x', 200, { 'content-type': `text/plain; echo=${secret}` }),
        schemas.TokenResponse,
        idp,
      ),
    );
    expect(JSON.stringify((error as ProtocolError).cause)).not.toContain(secret);
    expect((error as ProtocolError).cause).toMatchObject({
      contentType: 'text/plain; echo=[redacted]',
    });
  });

  it('refuses a body that breaks the schema with code schema, listing paths and never values', () => {
    const token = 'eyJ.secret-access-token.value';
    const error = caught(() =>
      parseBody(
        answer(JSON.stringify({ access_token: token, token_type: 42 })),
        schemas.TokenResponse,
        idp,
      ),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'schema' });
    const issues = (error as ProtocolError).cause as { path: string }[];
    expect(issues.map((issue) => issue.path)).toContain('token_type');
    expect(`${(error as Error).message} ${JSON.stringify(issues)}`).not.toContain(token);
  });

  it('names the root when the body is JSON of the wrong kind', () => {
    const error = caught(() => parseBody(answer('[]'), schemas.TokenResponse, idp));
    expect((error as ProtocolError).cause).toEqual([expect.objectContaining({ path: '(root)' })]);
  });
});

describe('toOAuthError', () => {
  it('keeps the RFC 6749 §5.2 error and description, the status and the endpoint without query', () => {
    const error = toOAuthError(
      answer(JSON.stringify({ error: 'invalid_scope', error_description: 'no such scope' }), 400),
      idp,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_scope',
      description: 'no such scope',
    });
    expect(error.message).toContain('from token endpoint https://idp.example.test/token');
    expect(error.message).not.toMatch(/tenant=one|frag/);
  });

  it.each([
    [401, 'invalid_client'],
    [429, 'temporarily_unavailable'],
    [503, 'temporarily_unavailable'],
    [500, 'server_error'],
    [502, 'server_error'],
    [400, 'invalid_request'],
    [403, 'invalid_request'],
  ])('gives HTTP %i without an OAuth body the code %s', (status, code) => {
    const error = toOAuthError(answer('<html>busy</html>', status, {}), idp);
    expect(error).toMatchObject({
      status,
      code,
      description: `HTTP ${status} without an OAuth error body`,
    });
  });

  it('falls back to the status when error is empty or not a string, keeping a description', () => {
    expect(toOAuthError(answer('{"error":"","error_description":"why"}', 401), idp)).toMatchObject({
      code: 'invalid_client',
      description: 'why',
    });
    expect(toOAuthError(answer('{"error":7}', 500), idp)).toMatchObject({ code: 'server_error' });
  });

  it('scrubs the secrets of the request from error and error_description, and caps error', () => {
    const error = toOAuthError(
      answer(
        JSON.stringify({
          error: `invalid_client ${secret} ${'x'.repeat(100)}`,
          error_description: `bad secret ${secret}`,
        }),
        401,
      ),
      idp,
    );
    expect(`${error.code} ${error.description} ${error.message}`).not.toContain(secret);
    expect(error.description).toBe('bad secret [redacted]');
    expect(error.code.length).toBeLessThanOrEqual(65);
  });
});
