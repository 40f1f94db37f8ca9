/**
 * The generator of src/generated/schemas.ts: it keeps the validation keywords, drops the
 * annotations, and throws on anything it does not understand, so that a spec change can never
 * leave an IdP answer silently unchecked.
 */
import { describe, expect, it } from 'vitest';
import {
  SchemaRef,
  buildDescriptors,
  schemasModule,
  toDescriptor,
} from '../../scripts/lib/schema-descriptors.mjs';

describe('toDescriptor', () => {
  it('keeps validation keywords, in a fixed order, and drops annotations', () => {
    expect(
      toDescriptor(
        {
          description: 'A token response.',
          title: 'Token',
          additionalProperties: true,
          required: ['access_token'],
          properties: {
            access_token: { type: 'string', minLength: 1, examples: ['abc'] },
            expires_in: { type: 'number', minimum: 0, deprecated: false },
          },
          type: 'object',
        },
        'TokenResponse',
      ),
    ).toEqual({
      type: 'object',
      properties: {
        access_token: { type: 'string', minLength: 1 },
        expires_in: { type: 'number', minimum: 0 },
      },
      required: ['access_token'],
      additionalProperties: true,
    });
  });

  it('writes a closed object without additionalProperties, whether false or absent', () => {
    expect(toDescriptor({ type: 'object', additionalProperties: false }, 'X')).toEqual({
      type: 'object',
    });
  });

  it('turns a $ref into a reference to the named schema and records it', () => {
    const refs = new Set<string>();
    const descriptor = toDescriptor(
      { type: 'array', items: { $ref: '#/components/schemas/JsonWebKey', description: 'A key' } },
      'Keys',
      refs,
    );
    expect(descriptor).toEqual({ type: 'array', items: new SchemaRef('JsonWebKey') });
    expect([...refs]).toEqual(['JsonWebKey']);
  });

  it.each([
    [
      'a keyword it does not know',
      { type: 'string', maxLength: 10 },
      /keyword "maxLength" is not understood/,
    ],
    [
      'a default, which zod would substitute',
      { type: 'string', default: 'x' },
      /keyword "default"/,
    ],
    ['a vendor extension', { type: 'string', 'x-internal': true }, /keyword "x-internal"/],
    [
      'an unknown keyword deep inside',
      {
        type: 'object',
        properties: { a: { type: 'array', items: { type: 'integer', exclusiveMinimum: 0 } } },
      },
      /X\.properties\.a\.items\.exclusiveMinimum/,
    ],
    ['a format other than uri', { type: 'string', format: 'date-time' }, /format "date-time"/],
    ['a list of types', { type: ['string', 'null'] }, /type \["string","null"\]/],
    [
      'additionalProperties as a schema',
      { type: 'object', additionalProperties: { type: 'string' } },
      /only true or false/,
    ],
    ['a string keyword without type string', { minLength: 1 }, /needs type string/],
    [
      'properties without type object',
      { properties: { a: { type: 'string' } } },
      /needs type object/,
    ],
    [
      'a required member missing from properties',
      { type: 'object', required: ['a'] },
      /not in `properties`/,
    ],
    [
      'a $ref outside components.schemas',
      { $ref: '#/components/parameters/DPoPProof' },
      /must point into/,
    ],
    [
      'a $ref with other validation keywords',
      { $ref: '#/components/schemas/A', minLength: 1 },
      /\$ref beside minLength/,
    ],
    [
      'a combinator mixed with other keywords',
      { type: 'object', allOf: [{ type: 'object' }] },
      /allOf beside other/,
    ],
    ['a const of another type', { type: 'string', const: 1 }, /not of type string/],
    ['an object const', { const: { a: 1 } }, /only a string, number, boolean or null/],
    [
      'a pattern that is not a regular expression',
      { type: 'string', pattern: '(' },
      /not a valid regular expression/,
    ],
    ['a boolean schema', true, /a schema must be an object/],
  ])('throws on %s', (_name, schema, message) => {
    expect(() => toDescriptor(schema, 'X')).toThrow(message);
  });
});

describe('buildDescriptors', () => {
  it('puts every schema after the schemas it refers to', () => {
    const names = buildDescriptors({
      Set: {
        type: 'object',
        properties: { keys: { type: 'array', items: { $ref: '#/components/schemas/Key' } } },
      },
      Key: { type: 'object', properties: { kty: { type: 'string' } } },
    }).map(({ name }) => name);
    expect(names).toEqual(['Key', 'Set']);
  });

  it('throws on a reference to a schema that does not exist', () => {
    expect(() => buildDescriptors({ A: { $ref: '#/components/schemas/B' } })).toThrow(
      /unknown schema "B"/,
    );
  });

  it('throws on recursive schemas, which constants cannot express', () => {
    expect(() =>
      buildDescriptors({
        Node: { type: 'object', properties: { next: { $ref: '#/components/schemas/Node' } } },
      }),
    ).toThrow(/recursive schemas are not supported/);
  });

  it.each(['default', 'Schema', 'components', 'not-an-identifier'])(
    'throws on a schema named %s, which cannot be a constant of the generated module',
    (name) => {
      expect(() => buildDescriptors({ [name]: { type: 'string' } })).toThrow(
        /free JavaScript identifier/,
      );
    },
  );
});

describe('schemasModule', () => {
  it('types each constant with the openapi-typescript type of its schema and refers by name', () => {
    const source = schemasModule({
      Key: { type: 'object', description: 'A key.', properties: { kty: { type: 'string' } } },
      KeySet: {
        type: 'object',
        properties: { keys: { type: 'array', items: { $ref: '#/components/schemas/Key' } } },
      },
    });
    expect(source).toContain(
      "export const Key: Schema<components['schemas']['Key']> = {\n  type: 'object',\n  properties: { kty: { type: 'string' } },\n};",
    );
    expect(source).toContain("properties: { keys: { type: 'array', items: Key } }");
    expect(source).toContain('/**\n * A key.\n */\nexport const Key');
  });
});
