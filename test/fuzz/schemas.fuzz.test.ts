/**
 * Differential property test: for every schema of openapi.yaml, the runtime's interpreter
 * (src/runtime/shared/validate.ts over src/generated/schemas.ts) and the zod schema generated
 * from the same spec (`s2s-auth/schemas`) agree on what is valid, and on what a valid value
 * parses to. Values come from two sources: junk of every kind, and documents shaped by the
 * schema with mutations (wrong types, missing required members, empty strings, negative and
 * fractional numbers, strings that are not URLs or have white space around them or control
 * characters in them, extra members).
 *
 * Both sides keep a URL exactly as sent, or refuse it: zod's own `z.url()` trims the value and
 * deletes tabs and line breaks inside it, so the generated zod schemas wrap it (`zUri` in
 * src/generated/zod.ts, written by scripts/generate.mjs) to refuse what the URL parser would
 * silently drop, as the runtime validator does. An `issuer` is then compared as sent (RFC 8414
 * §3.3) by applications that use `s2s-auth/schemas` too.
 *
 * The default run is sized to take a few seconds. Set FUZZ_RUNS to run each property that many
 * times instead (`npm run fuzz`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as descriptors from '../../src/generated/schemas.js';
import { validate, type SchemaNode } from '../../src/runtime/shared/validate.js';
import * as zodSchemas from '../../src/schemas.js';

const override = Number(process.env.FUZZ_RUNS ?? '');
const runs = Number.isInteger(override) && override > 0 ? override : 400;

/** Each generated descriptor with the zod schema of the same name (`TokenResponse`, `zTokenResponse`). */
const pairs = Object.entries(descriptors as unknown as Record<string, SchemaNode>).map(
  ([name, descriptor]) => {
    const zod = (zodSchemas as Record<string, unknown>)[`z${name}`] as
      { safeParse(value: unknown): { success: boolean; data?: unknown } } | undefined;
    return { name, descriptor, zod };
  },
);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Anything, including what JSON cannot carry (undefined, NaN, -0, Infinity, bigint). */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, '', ' ', -1, -0, 0.5, Number.NaN, Infinity, true, [], {}),
  fc.constantFrom('not a url', '/relative/path', 'idp.example.com', 'https://', 'http:example.com'),
  fc.anything({ maxDepth: 2 }),
);

/**
 * Strings a `format: uri` member may hold: URLs, URLs wrapped in white space or with tabs, line
 * breaks or other control characters inside, and non-URLs.
 */
const uriText: fc.Arbitrary<string> = fc.oneof(
  { weight: 30, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  fc
    .tuple(
      fc.constantFrom('', ' ', '\t', '\n', '\u00a0', '\ufeff', '\u0001'),
      fc.webUrl(),
      fc.constantFrom('', ' ', '\r\n', '\u2028'),
    )
    .map(([before, url, after]) => `${before}${url}${after}`),
  fc
    .tuple(fc.webUrl(), fc.constantFrom('\t', '\n', '\r', '\u0000', '\u001f', '\u007f'), fc.nat())
    .map(
      ([url, noise, at]) => `${url.slice(0, at % url.length)}${noise}${url.slice(at % url.length)}`,
    ),
  fc.constantFrom(
    'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    'mailto:ops@example.com',
    'https:/one-slash',
    '//no-scheme.example',
    'https://exa mple.com',
    'http://[::1]:8080/',
    'http://256.256.256.256/',
  ),
  fc.string(),
);

/** A value of the schema's shape, or now and then something else in its place. */
function shaped(node: SchemaNode): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 15, arbitrary: fitting(node) }, { weight: 1, arbitrary: junk });
}

function fitting(node: SchemaNode): fc.Arbitrary<unknown> {
  if (node.allOf) {
    return (
      fc
        .tuple(...node.allOf.map(fitting))
        // Spread, not Object.assign: an own `__proto__` member must stay a member.
        .map((parts) =>
          parts.every(isObject) ? parts.reduce((all, part) => ({ ...all, ...part }), {}) : parts[0],
        )
    );
  }
  const branches = node.anyOf ?? node.oneOf;
  if (branches) return fc.oneof(...branches.map(shaped));
  if ('const' in node) return fc.constant(node.const);
  if (node.enum) return fc.constantFrom(...node.enum);
  switch (node.type) {
    case 'string':
      if (node.format === 'uri') return uriText;
      if (!node.minLength) return fc.string();
      return fc.oneof(
        { weight: 8, arbitrary: fc.string({ minLength: node.minLength }) },
        fc.constant(''),
      );
    case 'number':
    case 'integer':
      return fc.oneof(
        { weight: 4, arbitrary: fc.nat() },
        fc.integer(),
        fc.double(),
        fc.constantFrom(-1, -0, 0, 1.5, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e300),
      );
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(shaped(node.items ?? {}), { maxLength: 3 });
    case 'object':
      return shapedObject(node);
    default:
      return junk;
  }
}

function shapedObject(node: SchemaNode): fc.Arbitrary<unknown> {
  const properties = node.properties ?? {};
  const names = Object.keys(properties);
  const required = [...(node.required ?? [])];
  const members = Object.fromEntries(names.map((name) => [name, shaped(properties[name]!)]));
  const dropped =
    required.length === 0
      ? fc.constant([] as string[])
      : fc.oneof(
          { weight: 4, arbitrary: fc.constant([] as string[]) },
          { weight: 1, arbitrary: fc.subarray(required, { minLength: 1 }) },
        );
  // Extra members, some named like declared ones: those then stand in for an absent member.
  const extra = fc.dictionary(
    fc.oneof(
      { weight: 6, arbitrary: fc.string({ maxLength: 6 }) },
      fc.constantFrom(...names, '__proto__', 'constructor'),
    ),
    junk,
    { maxKeys: 2 },
  );
  return fc
    .tuple(fc.record(members, { requiredKeys: required }), dropped, extra)
    .map(([record, drop, more]) => {
      const value: Record<string, unknown> = { ...more, ...record };
      for (const name of drop) delete value[name];
      return value;
    });
}

describe('the runtime validator and the zod schemas of openapi.yaml', () => {
  it('has a zod schema for every generated descriptor', () => {
    expect(pairs.length).toBeGreaterThanOrEqual(10);
    expect(pairs.filter(({ zod }) => zod === undefined).map(({ name }) => name)).toEqual([]);
  });

  it.each(pairs)('agree on $name', ({ descriptor, zod }) => {
    const seen = { passed: 0, failed: 0 };
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: shaped(descriptor) }, junk), (value) => {
        const ours = validate(descriptor, value);
        const theirs = zod!.safeParse(value);
        expect(ours.ok, JSON.stringify(ours.ok ? ours.value : ours.issues)).toBe(theirs.success);
        // Undefined members aside (JSON has none): zod keeps an optional one that is undefined.
        if (ours.ok && theirs.success) expect(ours.value).toEqual(theirs.data);
        seen[ours.ok ? 'passed' : 'failed']++;
      }),
      { numRuns: runs },
    );
    // Both verdicts must come up, or the property proves little.
    expect(seen.passed).toBeGreaterThan(runs / 20);
    expect(seen.failed).toBeGreaterThan(runs / 20);
  });
});
