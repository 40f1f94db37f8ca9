/**
 * Removes every occurrence of the given secrets from text that came from outside (an IdP's
 * `error_description`, say) before it goes into an error message, and caps its length.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>, max = 300): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  // Control characters from a server would let it forge log lines.
  out = out.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
