/**
 * RFC 6749 §3.3, Appendix A.4: `scope-token = 1*NQCHAR`, `NQCHAR = %x21 / %x23-5B / %x5D-7E`
 * (printable ASCII except space, `"` and `\`); a scope is scope tokens separated by spaces.
 */
const nqchar = '\\x21\\x23-\\x5b\\x5d-\\x7e';

/** One scope token (RFC 6749 §3.3). */
export const scopeTokenSyntax = new RegExp(`^[${nqchar}]+$`);

/**
 * Scope text: scope-token characters and spaces only (RFC 6749 Appendix A.4). Only the
 * characters are held to it: spacing is left as written. Empty text passes.
 */
export const scopeTextSyntax = new RegExp(`^[\\x20${nqchar}]*$`);
