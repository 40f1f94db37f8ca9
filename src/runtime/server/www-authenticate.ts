/** The authentication schemes a resource server challenges with (RFC 6750 §3, RFC 9449 §7.1). */
export type ChallengeScheme = 'Bearer' | 'DPoP';

/** Parameters of one challenge, in the order they are written. */
export interface ChallengeParameters {
  realm?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  scope?: string | undefined;
  algs?: string | undefined;
}

const order = ['realm', 'error', 'error_description', 'scope', 'algs'] as const;

/**
 * RFC 6750 §3 limits `error`, `error_description` and `scope` to printable ASCII without `"`
 * and `\`; holding every value to that set also keeps a header from ever being split or forged.
 */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ')}"`;
}

/**
 * One challenge, e.g. `Bearer realm="api", error="invalid_token", error_description="…"`.
 * With no parameters it is the bare scheme, as RFC 6750 §3.1 asks when a request carried no
 * credentials at all.
 */
export function formatChallenge(scheme: ChallengeScheme, parameters: ChallengeParameters): string {
  const parts: string[] = [];
  for (const name of order) {
    const value = parameters[name];
    if (value !== undefined && value !== '') parts.push(`${name}=${quoted(value)}`);
  }
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}
