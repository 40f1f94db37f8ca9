import type { components } from '../../generated/openapi.js';
import type { DpopSigner } from '../dpop/proof.js';
import { OptionError } from '../shared/options.js';
import type { FormValue } from '../shared/form.js';
import { normaliseScopes, parameterName, SDK_PARAMETERS, type TokenTarget } from './cache-key.js';
import type { ClientAuthenticator } from './client-authentication.js';
import type { DpopNonces } from './dpop-nonces.js';

/**
 * How the token request carries the resource indicators of a token: `'parameter'` as RFC 8707
 * `resource` parameters; `'scope-default'` as the scope `<resource>/.default`, which Microsoft
 * Entra ID takes instead (its v2.0 endpoint refuses `resource` with AADSTS901002).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope
 */
export type ResourceAs = 'parameter' | 'scope-default';

const resourceAsValues: readonly ResourceAs[] = ['parameter', 'scope-default'];

/** How resource indicators go into the token request, settled from the options and profile. */
export interface TokenRequestShape {
  resourceAs: ResourceAs;
  /** The parameter the one resource indicator is sent as instead of `resource` (Auth0: `audience`). */
  audienceParameter: string | undefined;
}

/** The `TypeError` of an option of the wrong form: names the option, never its value. */
export function invalid(where: string, option: string, problem: string): OptionError {
  return new OptionError(`${where}: \`${option}\` ${problem}`, 'ERR_INVALID_OPTION', option);
}

/**
 * Settles `resourceAs` and `audienceParameter`. An option given wins over the profile, and
 * takes the profile's other way of sending resources with it: `resourceAs: 'parameter'` with
 * the Auth0 profile sends `resource` again. Both options given at once is a `TypeError`: they
 * are two answers to one question.
 */
export function resolveTokenRequestShape(
  options: { resourceAs?: unknown; audienceParameter?: unknown },
  profile: { resourceAs?: ResourceAs; audienceParameter?: string } | undefined,
  where: string,
): TokenRequestShape {
  const { resourceAs, audienceParameter } = options;
  if (resourceAs !== undefined && !resourceAsValues.includes(resourceAs as ResourceAs)) {
    throw invalid(where, 'resourceAs', `must be 'parameter' or 'scope-default'`);
  }
  if (audienceParameter !== undefined) {
    if (typeof audienceParameter !== 'string' || !parameterName.test(audienceParameter)) {
      throw invalid(
        where,
        'audienceParameter',
        'must be an OAuth parameter name: letters, digits, `-`, `.` and `_` (RFC 6749 §8.2)',
      );
    }
    if (SDK_PARAMETERS.includes(audienceParameter)) {
      throw invalid(
        where,
        'audienceParameter',
        `cannot be \`${audienceParameter}\`: that parameter is the client's own (leave \`audienceParameter\` out to send \`resource\`)`,
      );
    }
    if (resourceAs !== undefined) {
      throw invalid(
        where,
        'audienceParameter',
        'and `resourceAs` both say how resources are sent: give one of them',
      );
    }
    return { resourceAs: 'parameter', audienceParameter };
  }
  if (resourceAs !== undefined) {
    return { resourceAs: resourceAs as ResourceAs, audienceParameter: undefined };
  }
  return {
    resourceAs: profile?.resourceAs ?? 'parameter',
    audienceParameter: profile?.audienceParameter,
  };
}

/** `<resource>/.default`, without a second slash when the resource ends with one. */
export function defaultScopeOf(resource: string): string {
  return resource.endsWith('/') ? `${resource}.default` : `${resource}/.default`;
}

/** Targets already found sendable in one shape: defaults and memoised targets are reused. */
const sendable = new WeakMap<TokenTarget, TokenRequestShape>();

/**
 * Checks that a token for `target` can be asked for in `shape`, or throws a `TypeError` that
 * says why not, before anything is sent:
 *
 * - `'scope-default'` sends one resource as its `/.default` scope, which stands for every
 *   permission the client was granted on it; a token request names one resource, and
 *   client_credentials takes no other scope beside it (Entra: AADSTS1002012). So: at most one
 *   resource, and no scopes with it.
 * - `audienceParameter` sends one resource as that parameter (Auth0 takes one `audience`); a
 *   `tokenParameters` entry of the same name beside a resource would be a second value.
 */
export function checkTokenTarget(
  target: TokenTarget,
  shape: TokenRequestShape,
  where: string,
): void {
  if (sendable.get(target) === shape) return;
  const { resources, scopes, parameters } = target;
  if (shape.resourceAs === 'scope-default' && resources.length > 0) {
    if (resources.length > 1) {
      throw invalid(
        where,
        'resource',
        `holds ${resources.length} resources, and \`resourceAs: 'scope-default'\` asks for one token per resource: ask for each in its own call`,
      );
    }
    if (scopes.length > 0) {
      throw invalid(
        where,
        'scope',
        `cannot go with a \`resource\` under \`resourceAs: 'scope-default'\`: the resource is sent as the scope \`<resource>/.default\`, which stands for every permission granted on it; leave \`scope\` out, or ask for scopes without a resource`,
      );
    }
    normaliseScopes(defaultScopeOf(resources[0]!), `${where}: \`resource\` as a scope`);
  }
  if (shape.audienceParameter !== undefined && resources.length > 0) {
    const name = shape.audienceParameter;
    if (resources.length > 1) {
      throw invalid(
        where,
        'resource',
        `holds ${resources.length} resources, and they are sent as the one \`${name}\` parameter: ask for each in its own call`,
      );
    }
    if (parameters.some(([parameter]) => parameter === name)) {
      throw invalid(
        where,
        'tokenParameters',
        `sets \`${name}\`, which also carries the \`resource\` of this token: give one of them`,
      );
    }
  }
  sendable.set(target, shape);
}

/**
 * The form members for `target`, besides `grant_type` and the client's credentials:
 * `scope`, the resources in the shape's way, and the extension parameters.
 */
export function tokenRequestMembers(
  target: TokenTarget,
  shape: TokenRequestShape,
): Record<string, FormValue> {
  const members: Record<string, FormValue> = {};
  for (const [name, values] of target.parameters) {
    put(members, name, values.length === 1 ? values[0] : values);
  }
  const { scopes, resources } = target;
  if (resources.length > 0 && shape.resourceAs === 'scope-default') {
    put(members, 'scope', defaultScopeOf(resources[0]!));
    return members;
  }
  if (scopes.length > 0) put(members, 'scope', scopes.join(' '));
  if (resources.length > 0) {
    if (shape.audienceParameter !== undefined) put(members, shape.audienceParameter, resources[0]);
    else put(members, 'resource', [...resources]);
  }
  return members;
}

/** An own member whatever its name: a parameter called `__proto__` is a parameter, not a prototype. */
function put(members: Record<string, FormValue>, name: string, value: FormValue): void {
  Object.defineProperty(members, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** The form of one grant (RFC 6749 §4.4.2, RFC 8693 §2.1), before the client's credentials. */
export type GrantForm =
  | components['schemas']['ClientCredentialsTokenRequest']
  | components['schemas']['TokenExchangeRequest'];

/** One token request, ready to send: its headers and its form body. */
export interface TokenRequest {
  headers: Record<string, string>;
  body: GrantForm;
  /**
   * When the client credential it carries expires (epoch seconds), for an external client
   * assertion with a readable `exp`: the token it buys is not served past it.
   */
  notAfter: number | undefined;
}

/** What {@link buildTokenRequest} needs besides the endpoint and the grant's form. */
export interface TokenRequestContext {
  authenticator: ClientAuthenticator;
  /** The DPoP key, when DPoP is on: each request carries a proof signed with it. */
  signer: DpopSigner | undefined;
  /** The nonces servers asked for: a proof to an origin that sent one carries it. */
  nonces: DpopNonces;
}

/**
 * The form of a client_credentials token request (RFC 6749 §4.4.2) for `target`: its scope,
 * resources in the shape's way, and extension parameters.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4.2
 */
export function clientCredentialsForm(
  target: TokenTarget,
  shape: TokenRequestShape,
): components['schemas']['ClientCredentialsTokenRequest'] {
  return { grant_type: 'client_credentials', ...tokenRequestMembers(target, shape) };
}

/**
 * Builds one token request to `url`, the token endpoint, for the grant's form: the client's
 * credentials added to it, and a DPoP proof (RFC 9449 §5) when DPoP is on. Build one per
 * attempt: client assertions and DPoP proofs are single-use.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4.2
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
 */
export async function buildTokenRequest(
  url: string,
  form: GrantForm,
  context: TokenRequestContext,
): Promise<TokenRequest> {
  const { signer } = context;
  const authentication = await context.authenticator.authenticate(url);
  const headers: Record<string, string> = {
    ...authentication.headers,
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  if (signer) {
    const nonce = context.nonces.get(new URL(url).origin);
    headers.DPoP = await signer.proof({
      htm: 'POST',
      htu: url,
      ...(nonce === undefined ? {} : { nonce }),
    });
  }
  return {
    headers,
    body: { ...form, ...authentication.body },
    notAfter: authentication.notAfter,
  };
}
