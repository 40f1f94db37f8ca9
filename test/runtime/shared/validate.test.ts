/**
 * The validation interpreter on its own: each keyword, where issues point, open and closed
 * objects, references between generated schemas, unions and intersections.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { components } from '../../../src/generated/openapi.js';
import * as schemas from '../../../src/generated/schemas.js';
import {
  validate,
  type Schema,
  type SchemaNode,
  type ValidationIssue,
} from '../../../src/runtime/shared/validate.js';

/** The issues of a value that must fail. */
function issuesOf(schema: SchemaNode, value: unknown): ValidationIssue[] {
  const result = validate(schema, value);
  if (result.ok) throw new Error(`expected ${JSON.stringify(value)} to fail`);
  return result.issues;
}

/** The parsed value of a value that must pass. */
function valueOf(schema: SchemaNode, value: unknown): unknown {
  const result = validate(schema, value);
  if (!result.ok) throw new Error(`expected a pass, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

describe('type', () => {
  it.each([
    ['string', 'text', 42],
    ['boolean', false, 'false'],
    ['null', null, undefined],
    ['array', [], {}],
    ['object', {}, []],
    ['object', { a: 1 }, null],
    ['number', 1.5, '1.5'],
    ['integer', 7, 7.5],
  ] as const)('accepts a %s and refuses the wrong kind of value', (type, good, bad) => {
    expect(validate({ type }, good).ok).toBe(true);
    expect(issuesOf({ type }, bad)).toEqual([
      { code: 'invalid_type', path: [], message: expect.stringContaining('expected') },
    ]);
  });

  it('refuses NaN and the infinities as numbers', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(issuesOf({ type: 'number' }, value)[0]?.code).toBe('invalid_type');
      expect(issuesOf({ type: 'integer' }, value)[0]?.code).toBe('invalid_type');
    }
  });

  it('takes integers only within the safe range, like a JSON number a program can trust', () => {
    expect(validate({ type: 'integer' }, Number.MAX_SAFE_INTEGER).ok).toBe(true);
    expect(validate({ type: 'integer' }, -Number.MAX_SAFE_INTEGER).ok).toBe(true);
    expect(validate({ type: 'integer' }, 2 ** 53).ok).toBe(false);
    expect(validate({ type: 'integer' }, -(2 ** 53)).ok).toBe(false);
  });

  it('lets anything through a schema without keywords', () => {
    for (const value of [undefined, null, 0, '', [], {}, { deep: [1] }]) {
      expect(valueOf({}, value)).toBe(value);
    }
  });
});

describe('string keywords', () => {
  it('counts minLength in characters', () => {
    expect(valueOf({ type: 'string', minLength: 1 }, 'a')).toBe('a');
    expect(issuesOf({ type: 'string', minLength: 1 }, '')).toEqual([
      { code: 'too_small', path: [], message: 'Too small: expected string to have >=1 characters' },
    ]);
  });

  it('matches pattern anywhere in the string unless the pattern anchors itself', () => {
    expect(validate({ type: 'string', pattern: 'b' }, 'abc').ok).toBe(true);
    expect(validate({ type: 'string', pattern: '^b' }, 'abc').ok).toBe(false);
    expect(issuesOf({ type: 'string', pattern: '^[a-z]+$' }, 'A1')[0]?.code).toBe('invalid_format');
  });

  it('accepts absolute URIs of any scheme for format uri', () => {
    for (const url of [
      'https://idp.example.com',
      'http://127.0.0.1:8080/tenant/a?x=1#f',
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      'mailto:ops@example.com',
    ]) {
      expect(valueOf({ type: 'string', format: 'uri' }, url)).toBe(url);
    }
  });

  it('refuses relative references and other text for format uri', () => {
    for (const text of [
      '',
      '/token',
      '//idp.example.com/token',
      'idp.example.com',
      'not a url',
      'https://',
    ]) {
      expect(issuesOf({ type: 'string', format: 'uri' }, text)).toEqual([
        { code: 'invalid_format', path: [], message: 'Invalid URL' },
      ]);
    }
  });

  it('keeps a URI exactly as sent, never cleaned up (RFC 8414 §3.3 compares issuers as strings)', () => {
    for (const url of [
      'https://idp.example.com/',
      'https://idp.example.com/tenant/',
      'HTTPS://IDP.example.com:443/a/../b?x=1#f',
      'urn:ietf:params:oauth:token-type:jwt',
    ]) {
      expect(valueOf({ type: 'string', format: 'uri' }, url)).toBe(url);
    }
  });

  it.each([
    ['white space before it', '  https://idp.example.com/'],
    ['a line break after it', 'https://idp.example.com/\n'],
    ['a no-break space after it', 'https://idp.example.com\u00a0'],
    ['a byte-order mark before it', '\ufeffhttps://idp.example.com'],
    ['a tab inside the host', 'https://idp.exam\tple.com/'],
    ['CR LF inside the path', 'https://idp.example.com/to\r\nken'],
    ['a control character before it', '\u0001https://idp.example.com'],
    ['a NUL inside', 'https://idp.example.com/\u0000'],
  ])('refuses a URI with %s, which the URL parser would silently drop', (_name, url) => {
    expect(issuesOf({ type: 'string', format: 'uri' }, url)).toEqual([
      { code: 'invalid_format', path: [], message: 'Invalid URL' },
    ]);
  });
});

describe('number keywords', () => {
  it('includes the minimum itself', () => {
    expect(validate({ type: 'number', minimum: 0 }, 0).ok).toBe(true);
    expect(validate({ type: 'number', minimum: 0 }, 0.001).ok).toBe(true);
    expect(issuesOf({ type: 'number', minimum: 0 }, -1)).toEqual([
      { code: 'too_small', path: [], message: 'Too small: expected number to be >=0' },
    ]);
  });
});

describe('const and enum', () => {
  it('accepts exactly the const value', () => {
    expect(validate({ const: 1 }, 1).ok).toBe(true);
    expect(issuesOf({ const: 1 }, '1')).toEqual([
      { code: 'invalid_value', path: [], message: 'Invalid input: expected 1' },
    ]);
  });

  it('accepts one of the enum values and nothing else', () => {
    const schema: SchemaNode = { enum: ['Bearer', 'DPoP'] };
    expect(validate(schema, 'DPoP').ok).toBe(true);
    expect(issuesOf(schema, 'bearer')).toEqual([
      {
        code: 'invalid_value',
        path: [],
        message: 'Invalid option: expected one of "Bearer"|"DPoP"',
      },
    ]);
  });
});

describe('objects', () => {
  const closed: SchemaNode = {
    type: 'object',
    properties: { id: { type: 'string' }, size: { type: 'number' } },
    required: ['id'],
  };
  const open: SchemaNode = { ...closed, additionalProperties: true };

  it('drops members not in properties when the object is closed', () => {
    expect(valueOf(closed, { id: 'a', size: 1, extra: true })).toStrictEqual({ id: 'a', size: 1 });
  });

  it('keeps members not in properties, as they are, when additionalProperties is true', () => {
    const extra = { nested: [1, 2] };
    const parsed = valueOf(open, { id: 'a', extra }) as Record<string, unknown>;
    expect(parsed).toStrictEqual({ id: 'a', extra });
    expect(parsed.extra).toBe(extra);
  });

  it('names each missing required member by its path', () => {
    expect(issuesOf(closed, {})).toEqual([
      {
        code: 'invalid_type',
        path: ['id'],
        message: 'Invalid input: expected string, received undefined',
      },
    ]);
  });

  it('treats an optional member set to undefined as absent', () => {
    expect(valueOf(closed, { id: 'a', size: undefined })).toStrictEqual({ id: 'a' });
  });

  it('reports every broken member, not only the first', () => {
    expect(issuesOf(closed, { id: 1, size: 'big' }).map((issue) => issue.path)).toEqual([
      ['id'],
      ['size'],
    ]);
  });

  it('refuses arrays and null as objects', () => {
    expect(issuesOf(closed, [])[0]?.message).toBe('Invalid input: expected object, received array');
    expect(issuesOf(closed, null)[0]?.message).toBe(
      'Invalid input: expected object, received null',
    );
  });

  it('never turns an own __proto__ member into the prototype of the result', () => {
    const parsed = valueOf(
      open,
      JSON.parse('{"id":"a","__proto__":{"size":"polluted"}}'),
    ) as object;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect((parsed as { size?: unknown }).size).toBeUndefined();
  });

  it('reads only own members, so a member named like an Object.prototype method is not found', () => {
    const schema: SchemaNode = {
      type: 'object',
      properties: Object.fromEntries([['toString', { type: 'string' as const }]]),
      required: ['toString'],
    };
    expect(issuesOf(schema, {})[0]?.path).toEqual(['toString']);
  });

  it('keeps members named like Object.prototype methods in an open object', () => {
    expect(valueOf(open, JSON.parse('{"id":"a","constructor":1}'))).toStrictEqual({
      id: 'a',
      constructor: 1,
    });
  });
});

describe('arrays', () => {
  const list: SchemaNode = { type: 'array', items: { type: 'string', minLength: 1 } };

  it('checks every item and points at the broken ones by index', () => {
    expect(issuesOf(list, ['a', '', 'b', 3]).map(({ code, path }) => ({ code, path }))).toEqual([
      { code: 'too_small', path: [1] },
      { code: 'invalid_type', path: [3] },
    ]);
  });

  it('treats a hole as an undefined item', () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is what is tested
    expect(issuesOf(list, ['a', , 'b'])[0]?.path).toEqual([1]);
  });

  it('returns a new array of parsed items', () => {
    const closed: SchemaNode = { type: 'object', properties: { a: { type: 'string' } } };
    const input = [{ a: 'x', extra: 1 }, { a: 'y' }];
    const parsed = valueOf({ type: 'array', items: closed }, input);
    expect(parsed).toEqual([{ a: 'x' }, { a: 'y' }]);
    expect(parsed).not.toBe(input);
    expect(input[0]).toEqual({ a: 'x', extra: 1 });
  });
});

describe('references between generated schemas', () => {
  it('checks a key against the JsonWebKey schema, with the full path', () => {
    expect(issuesOf(schemas.JsonWebKey, { kid: 'k' })).toEqual([
      {
        code: 'invalid_type',
        path: ['kty'],
        message: 'Invalid input: expected string, received undefined',
      },
    ]);
  });

  it('lets a key set hold members that are not JsonWebKeys, which RFC 7517 §5 has skipped', () => {
    const set = { keys: [{ kty: 'OKP' }, { kid: 'k' }, null, 'x'] };
    expect(valueOf(schemas.JsonWebKeySet, set)).toStrictEqual(set);
    expect(issuesOf(schemas.JsonWebKeySet, { keys: {} })[0]?.path).toEqual(['keys']);
  });

  it('checks a nested referenced object and keeps its unknown members', () => {
    const parsed = valueOf(schemas.IntrospectionResponse, {
      active: true,
      cnf: { jkt: 'thumbprint', other: 1 },
      custom_claim: ['x'],
    });
    expect(parsed).toStrictEqual({
      active: true,
      cnf: { jkt: 'thumbprint', other: 1 },
      custom_claim: ['x'],
    });
    expect(
      issuesOf(schemas.IntrospectionResponse, { active: true, cnf: { jkt: 1 } })[0]?.path,
    ).toEqual(['cnf', 'jkt']);
  });
});

describe('unions', () => {
  it('accepts a value that fits one oneOf branch', () => {
    expect(validate(schemas.IntrospectionResponse, { active: true, aud: 'a' }).ok).toBe(true);
    expect(validate(schemas.IntrospectionResponse, { active: true, aud: ['a', 'b'] }).ok).toBe(
      true,
    );
  });

  it('refuses a value that fits no branch with one invalid_union issue at its path', () => {
    expect(issuesOf(schemas.IntrospectionResponse, { active: true, aud: [1] })).toEqual([
      {
        code: 'invalid_union',
        path: ['aud'],
        message: 'Invalid input: matches none of the allowed schemas',
      },
    ]);
  });

  it('refuses a value that fits more than one oneOf branch', () => {
    const schema: SchemaNode = { oneOf: [{ type: 'number' }, { type: 'integer' }] };
    expect(validate(schema, 1.5).ok).toBe(true);
    expect(issuesOf(schema, 2)[0]?.message).toBe(
      'Invalid input: matches more than one of the allowed schemas',
    );
  });

  it('takes the first anyOf branch that fits', () => {
    const schema: SchemaNode = {
      anyOf: [
        { type: 'object', properties: { a: { type: 'string' } } },
        { type: 'object', properties: { b: { type: 'string' } }, additionalProperties: true },
      ],
    };
    expect(valueOf(schema, { a: 'x', b: 'y' })).toStrictEqual({ a: 'x' });
    expect(valueOf(schema, { a: 1, b: 'y' })).toStrictEqual({ a: 1, b: 'y' });
  });
});

describe('intersections (allOf)', () => {
  const metadata = {
    issuer: 'https://idp.example.com',
    token_endpoint: 'https://idp.example.com/token',
    userinfo_endpoint: 'https://idp.example.com/me',
    vendor_extension: { a: 1 },
  };

  it('merges what every branch parsed', () => {
    expect(valueOf(schemas.OpenIdProviderMetadata, metadata)).toStrictEqual(metadata);
  });

  it('reports the issues of every branch', () => {
    const issues = issuesOf(schemas.OpenIdProviderMetadata, {
      issuer: 'not a url',
      userinfo_endpoint: 'not a url either',
    });
    expect(issues.map((issue) => issue.path)).toEqual([['issuer'], ['userinfo_endpoint']]);
  });

  it('keeps what a branch parsed over what another branch passed through unchanged', () => {
    // The open first branch passes `inner` through as sent; the second, closed one drops its
    // unknown member `extra`. The first drops `other.extra`, which the second passes through.
    const schema: SchemaNode = {
      allOf: [
        {
          type: 'object',
          properties: { other: { type: 'object', properties: { a: { type: 'string' } } } },
          additionalProperties: true,
        },
        {
          type: 'object',
          properties: { inner: { type: 'object', properties: { a: { type: 'string' } } } },
          additionalProperties: true,
        },
      ],
    };
    const parsed = valueOf(schema, { inner: { a: 'x', extra: 1 }, other: { a: 'y', extra: 2 } });
    expect(parsed).toStrictEqual({ inner: { a: 'x' }, other: { a: 'y' } });
  });

  it('merges arrays item by item', () => {
    const closed: SchemaNode = { type: 'object', properties: { a: { type: 'string' } } };
    const schema: SchemaNode = {
      allOf: [
        { type: 'array', items: closed },
        { type: 'array', items: {} },
      ],
    };
    expect(valueOf(schema, [{ a: 'x', extra: 1 }, { a: 'y' }])).toEqual([{ a: 'x' }, { a: 'y' }]);
  });

  it('refuses a URL member with white space instead of passing it on trimmed', () => {
    const issues = issuesOf(schemas.OpenIdProviderMetadata, {
      ...metadata,
      userinfo_endpoint: ' https://idp.example.com/me',
      revocation_endpoint: 'https://idp.example.com/re\tvoke',
    });
    expect(issues.map((issue) => [issue.path, issue.code])).toEqual([
      [['revocation_endpoint'], 'invalid_format'],
      [['userinfo_endpoint'], 'invalid_format'],
    ]);
  });
});

describe('issues', () => {
  it('never quote the value, which may be a credential', () => {
    const secret = 'eyJhbGciOiJFUzI1NiJ9.c2VjcmV0.c2ln';
    const issues = [
      ...issuesOf(schemas.TokenResponse, { access_token: [secret], token_type: secret.length }),
      ...issuesOf({ type: 'string', format: 'uri' }, secret),
      ...issuesOf({ type: 'string', pattern: '^x$' }, secret),
      ...issuesOf({ enum: ['a'] }, secret),
    ];
    expect(issues.length).toBeGreaterThan(3);
    expect(JSON.stringify(issues)).not.toContain(secret);
  });
});

describe('types', () => {
  it('narrows a generated schema to its openapi-typescript type', () => {
    const result = validate(schemas.TokenResponse, {});
    if (result.ok) {
      expectTypeOf(result.value).toEqualTypeOf<components['schemas']['TokenResponse']>();
    }
    expectTypeOf(schemas.IntrospectionResponse).toExtend<
      Schema<components['schemas']['IntrospectionResponse']>
    >();
  });
});
