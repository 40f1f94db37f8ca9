/**
 * The options of one call to `verifyToken` or `verifyRequest`, and the checks of the audience
 * and scopes options they share with the factory and the middleware.
 */
import { scopeTokenSyntax } from '../shared/scope.js';
import { applyAliases, givenName, rejectUnknownAliasedOptions } from '../shared/aliases.js';
import { optionKeys } from '../shared/options.js';
import { certificateDer, type ClientCertificate } from './certificate-binding.js';

/**
 * Per-call options of {@link ResourceServer.verifyToken} and {@link ResourceServer.verifyRequest}.
 * Each one given replaces the server's default for this call.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @example
 * ```ts
 * await server.verifyToken(token, { audience: 'https://billing.example.com', requiredScopes: ['billing:write'] });
 * ```
 */
export interface VerifyOptions {
  /** Expected `aud` for this call. */
  audience?: string | readonly string[] | undefined;
  /** Scopes the token must grant for this call (space-separated string or array). */
  requiredScopes?: string | readonly string[] | undefined;
  /** Another name for `requiredScopes`, as the middleware spells it; give one or the other. */
  scopes?: string | readonly string[] | undefined;
  /**
   * The client certificate the request came with over mutual TLS (DER bytes, PEM text, or an
   * object with the DER in `raw`, such as Node's `X509Certificate` or
   * `socket.getPeerCertificate(true)`). A token bound to a certificate (`cnf["x5t#S256"]`) is
   * accepted only with that very certificate, and refused with reason `certificate` without
   * one; a token that is not bound passes either way. Default: none. The middleware reads it
   * from the TLS socket for you.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
   */
  clientCertificate?: ClientCertificate | undefined;
}

/** Every option of {@link VerifyOptions}; the compiler keeps the list complete. */
const VERIFY_OPTION_KEYS = optionKeys<VerifyOptions>()([
  'audience',
  'requiredScopes',
  'scopes',
  'clientCertificate',
]);

/** The other names per-call options may be given under. */
const VERIFY_ALIASES = { scopes: 'requiredScopes' } as const;

/** An audience option: a non-empty string or a non-empty array of them. */
export function validateAudience(value: unknown, where: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item !== '')
  ) {
    throw new TypeError(
      `${where}: \`audience\` must be a non-empty string or a non-empty array of them`,
    );
  }
  return Object.freeze([...(list as string[])]);
}

/** A scopes option: a space-separated string or an array of scope tokens (RFC 6749 §3.3). */
export function validateScopes(
  value: unknown,
  where: string,
  name = 'requiredScopes',
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? value.split(' ').filter((scope) => scope !== '') : value;
  if (
    !Array.isArray(list) ||
    !list.every((item) => typeof item === 'string' && scopeTokenSyntax.test(item))
  ) {
    throw new TypeError(
      `${where}: \`${name}\` must be a space-separated string or an array of scope tokens (RFC 6749 §3.3)`,
    );
  }
  return Object.freeze([...new Set(list as string[])]);
}

/** What a call checks the token against: the server's defaults, or the call's own. */
export interface CallRequirements {
  readonly audience: readonly string[] | undefined;
  readonly requiredScopes: readonly string[] | undefined;
  /** The DER bytes of the request's client certificate, checked; `undefined` for none. */
  readonly clientCertificate?: Uint8Array | undefined;
}

/** Checks a call's options; each one given replaces the server's default for this call. */
export function resolveCallOptions(
  options: VerifyOptions | undefined,
  where: string,
  defaults: CallRequirements,
): CallRequirements {
  if (options === undefined) return defaults;
  rejectUnknownAliasedOptions(options, VERIFY_OPTION_KEYS, VERIFY_ALIASES, where);
  const call = applyAliases(options, VERIFY_ALIASES, where);
  return {
    audience:
      call.audience === undefined ? defaults.audience : validateAudience(call.audience, where),
    requiredScopes:
      call.requiredScopes === undefined
        ? defaults.requiredScopes
        : validateScopes(
            call.requiredScopes,
            where,
            givenName(options, 'requiredScopes', VERIFY_ALIASES),
          ),
    // Read here, so a certificate in a form no one can hash fails the call even for a token
    // that is not bound.
    clientCertificate:
      call.clientCertificate === undefined
        ? undefined
        : certificateDer(call.clientCertificate, where),
  };
}
