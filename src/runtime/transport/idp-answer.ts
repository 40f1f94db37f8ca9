import { OAuthError, ProtocolError } from '../errors.js';
import { redact, secretForms } from '../shared/redact.js';
import { validate, type Schema } from '../shared/validate.js';
import { safeUrl, type IdpAnswer, type IdpCall } from './idp-client.js';

/**
 * Validates a 2xx body against a schema generated from `openapi.yaml`. Anything else is a
 * {@link ProtocolError} whose cause lists the problems but never the values (they may hold tokens).
 */
export function parseBody<T>(answer: IdpAnswer, schema: Schema<T>, call: IdpCall): T {
  const where = `the authorization server's ${call.endpoint}`;
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    const type = answer.response.headers.get('content-type');
    throw new ProtocolError(
      `${where} answered HTTP ${answer.response.status} with a body that is not JSON`,
      {
        contentType: type === null ? 'no content type' : redact(type, answer.secrets, 100),
        length: answer.text.length,
      },
      'not_json',
    );
  }
  const result = validate(schema, json);
  if (!result.ok) {
    const issues = result.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(root)',
      code: issue.code,
      message: issue.message,
    }));
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new ProtocolError(
      `${where} answered with a body that breaks the spec (${summary})`,
      issues,
      'schema',
    );
  }
  return result.value;
}

const statusCodes: Record<number, string> = {
  401: 'invalid_client',
  429: 'temporarily_unavailable',
  503: 'temporarily_unavailable',
};

/**
 * Maps a non-2xx answer to an {@link OAuthError}, using the RFC 6749 §5.2 body when there is one.
 * `error` and `error_description` are the only text of the answer it keeps, and both are
 * scrubbed of every secret the request carried, in every encoding (a server may echo the
 * request: its Basic credential, form body or client assertion).
 */
export function toOAuthError(answer: IdpAnswer, call: IdpCall): OAuthError {
  const { status } = answer.response;
  const forms = secretForms(answer.secrets);
  let code: string | undefined;
  let description: string | undefined;
  try {
    const body: unknown = JSON.parse(answer.text);
    if (body && typeof body === 'object') {
      const { error, error_description } = body as Record<string, unknown>;
      if (typeof error === 'string' && error.length > 0) code = redact(error, forms, 64);
      if (typeof error_description === 'string') description = redact(error_description, forms);
    }
  } catch {
    // Not an OAuth error body; the status speaks for itself below.
  }
  if (code === undefined) {
    code = statusCodes[status] ?? (status >= 500 ? 'server_error' : 'invalid_request');
    description ??= `HTTP ${status} without an OAuth error body`;
  }
  return new OAuthError({
    status,
    code,
    endpoint: `${call.endpoint} ${redact(safeUrl(call.url), forms, 500)}`,
    ...(description === undefined ? {} : { description }),
  });
}
