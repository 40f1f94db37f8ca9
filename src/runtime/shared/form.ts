/** A value of an `application/x-www-form-urlencoded` body: repeated for arrays, left out when undefined. */
export type FormValue = string | readonly string[] | undefined;

/**
 * Serialises a request body as `application/x-www-form-urlencoded` (WHATWG URL §5): arrays
 * become repeated parameters (RFC 8707 `resource`), `undefined` members are left out.
 */
export function formEncode(body: Readonly<Record<string, FormValue>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (value === undefined) continue;
    if (typeof value === 'string') params.append(name, value);
    else for (const item of value) params.append(name, item);
  }
  return params.toString();
}

/** One value form-encoded on its own, as RFC 6749 §2.3.1 asks of Basic credentials. */
export function formEncodeComponent(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** The `Authorization: Basic` value for `client_secret_basic` (RFC 6749 §2.3.1). */
export function basicCredentials(clientId: string, clientSecret: string): string {
  const pair = `${formEncodeComponent(clientId)}:${formEncodeComponent(clientSecret)}`;
  // Form encoding leaves only ASCII, so btoa is safe here.
  return `Basic ${btoa(pair)}`;
}
