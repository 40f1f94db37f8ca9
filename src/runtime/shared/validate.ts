import type { Schema, SchemaNode } from '../../generated/schemas.js';

export type { Schema, SchemaNode };

/** One way a value breaks its schema, where (`['keys', 0, 'kty']`) and why; never the value. */
export interface ValidationIssue {
  code: string;
  path: (string | number)[];
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks `value` against a descriptor of src/generated/schemas.ts (or one written the same way).
 * The value it gives back has the unknown members of closed objects dropped and nothing else
 * changed: a URL is checked, never rewritten, so an `issuer` is compared exactly as the server
 * sent it (RFC 8414 §3.3). `s2s-auth/schemas` parses the same documents to the same values
 * (test/fuzz/schemas.fuzz.test.ts holds the two to that). Issue codes are the ones those
 * schemas use.
 */
export function validate<T>(schema: Schema<T>, value: unknown): ValidationResult<T> {
  const issues: ValidationIssue[] = [];
  const parsed = check(schema, value, [], issues);
  return issues.length === 0 ? { ok: true, value: parsed as T } : { ok: false, issues };
}

type Path = (string | number)[];

const kindOf = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const isObject = (value: unknown): value is Record<string, unknown> => kindOf(value) === 'object';

/**
 * Joins what two `allOf` branches made of the same `input`. A branch only ever drops members of
 * closed objects, so where the two differ, one of them passed the input through unchanged: the
 * other one's work wins.
 */
function merge(a: unknown, b: unknown, input: unknown): unknown {
  if (a === input) return b;
  if (b === input) return a;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.map((item, index) => merge(item, b[index], (input as unknown[])[index]));
  }
  if (isObject(a) && isObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [key, value] of Object.entries(b)) {
      out[key] = Object.hasOwn(a, key)
        ? merge(a[key], value, (input as Record<string, unknown>)[key])
        : value;
    }
    return out;
  }
  return a;
}

/**
 * White space around the value, or a control character anywhere in it. The URL parser would
 * drop these silently (surrounding white space and C0 controls, and every tab, CR and LF
 * inside: `https://idp.exa\tmple` parses as `https://idp.example`), so a value that only parses
 * once cleaned up is not the URL it looks like.
 */
const URL_NOISE = /^\s|\s$|[\u0000-\u001f\u007f]/;

/** An absolute URL exactly as written: it parses, and the parser had nothing to drop. */
function isUrl(text: string): boolean {
  if (URL_NOISE.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

function check(node: SchemaNode, value: unknown, path: Path, issues: ValidationIssue[]): unknown {
  const problem = (code: string, message: string) => {
    issues.push({ code, path, message });
    return value;
  };

  if (node.allOf) {
    return node.allOf.reduce<unknown>(
      (out, branch) => merge(out, check(branch, value, path, issues), value),
      value,
    );
  }

  const branches = node.anyOf ?? node.oneOf;
  if (branches) {
    const passed: unknown[] = [];
    for (const branch of branches) {
      const found: ValidationIssue[] = [];
      const parsed = check(branch, value, path, found);
      if (found.length > 0) continue;
      passed.push(parsed);
      // anyOf takes the first branch that fits; oneOf needs to know that no other one does.
      if (node.anyOf) break;
    }
    if (passed.length === 1) return passed[0];
    return problem(
      'invalid_union',
      `Invalid input: matches ${passed.length ? 'more than one' : 'none'} of the allowed schemas`,
    );
  }

  const { type } = node;
  const kind = kindOf(value);
  const typed =
    type === undefined ||
    (type === 'integer'
      ? Number.isSafeInteger(value)
      : type === 'number'
        ? Number.isFinite(value)
        : type === kind);
  if (!typed) {
    // The kind of value, never the value: it may be a credential.
    const expected =
      type === 'integer' ? 'a safe integer' : type === 'number' ? 'a finite number' : type;
    return problem('invalid_type', `Invalid input: expected ${expected}, received ${kind}`);
  }
  if ('const' in node && value !== node.const) {
    return problem('invalid_value', `Invalid input: expected ${JSON.stringify(node.const)}`);
  }
  if (node.enum && !node.enum.includes(value as never)) {
    return problem(
      'invalid_value',
      `Invalid option: expected one of ${node.enum.map((option) => JSON.stringify(option)).join('|')}`,
    );
  }

  if (typeof value === 'string') {
    if (node.format === 'uri' && !isUrl(value)) return problem('invalid_format', 'Invalid URL');
    if (node.minLength !== undefined && value.length < node.minLength) {
      problem('too_small', `Too small: expected string to have >=${node.minLength} characters`);
    }
    if (node.pattern !== undefined && !new RegExp(node.pattern).test(value)) {
      problem('invalid_format', `Invalid string: must match pattern /${node.pattern}/`);
    }
    return value;
  }

  if (typeof value === 'number' && node.minimum !== undefined && value < node.minimum) {
    return problem('too_small', `Too small: expected number to be >=${node.minimum}`);
  }

  if (Array.isArray(value) && node.items) {
    const { items } = node;
    // Array.from, not map: a hole is an undefined item, not one to skip.
    return Array.from(value, (item, index) => check(items, item, [...path, index], issues));
  }

  if (isObject(value) && type === 'object') {
    const properties = node.properties ?? {};
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(properties)) {
      const given = Object.hasOwn(value, key) ? value[key] : undefined;
      if (given !== undefined) {
        out[key] = check(member, given, [...path, key], issues);
      } else if (node.required?.includes(key)) {
        issues.push({
          code: 'invalid_type',
          path: [...path, key],
          message: `Invalid input: expected ${member.type ?? 'value'}, received undefined`,
        });
      }
    }
    if (node.additionalProperties) {
      for (const key of Object.keys(value)) {
        // An own `__proto__` (JSON.parse makes one) must not become the output's prototype.
        if (!Object.hasOwn(properties, key) && key !== '__proto__') out[key] = value[key];
      }
    }
    return out;
  }
  return value;
}
