// Turns `components.schemas` of openapi.yaml into the source of src/generated/schemas.ts: one
// validation descriptor per schema, holding only the keywords src/runtime/shared/validate.ts
// checks. A keyword it does not know throws, so a change to the spec can never go unchecked
// at run time without anyone noticing.

/** Annotations: they say nothing about what is valid, so they are dropped. */
const annotations = new Set([
  'title',
  'description',
  'example',
  'examples',
  '$comment',
  'deprecated',
  'externalDocs',
]);

const types = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'];

/** Keywords that apply to one kind of value only: they need a matching `type` beside them. */
const typeOf = {
  properties: ['object'],
  required: ['object'],
  additionalProperties: ['object'],
  items: ['array'],
  minLength: ['string'],
  pattern: ['string'],
  format: ['string'],
  minimum: ['number', 'integer'],
};

/** Output order of the keywords, so descriptors read alike whatever the spec's order. */
const order = [
  'type',
  'const',
  'enum',
  'format',
  'minLength',
  'pattern',
  'minimum',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'allOf',
];

const combinators = ['anyOf', 'oneOf', 'allOf'];

/** A `$ref` to another schema of `components.schemas`, printed as the name of its constant. */
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- told apart from plain descriptors with instanceof
export class SchemaRef {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
  }
}

const isPlainObject = (value) =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isPrimitive = (value) =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);
const jsonType = (value) =>
  value === null
    ? 'null'
    : typeof value === 'number'
      ? Number.isInteger(value)
        ? 'integer'
        : 'number'
      : typeof value;

function fail(where, problem) {
  throw new Error(`generate: ${where}: ${problem}`);
}

/**
 * The validation descriptor of one schema: its validation keywords, checked and in a fixed
 * order, annotations dropped, `$ref` as a {@link SchemaRef}. Throws on anything else.
 *
 * @param {unknown} schema a schema object of openapi.yaml
 * @param {string} where where it is, for error messages (`TokenResponse.properties.scope`)
 * @param {Set<string>} [refs] collects the names of the schemas it refers to
 */
export function toDescriptor(schema, where, refs = new Set()) {
  if (!isPlainObject(schema)) fail(where, 'a schema must be an object');
  if ('$ref' in schema) {
    const others = Object.keys(schema).filter((key) => key !== '$ref' && !annotations.has(key));
    if (others.length > 0) fail(where, `$ref beside ${others.join(', ')} is not supported`);
    const match = /^#\/components\/schemas\/([^/]+)$/.exec(String(schema.$ref));
    if (!match) fail(where, `$ref "${schema.$ref}" must point into #/components/schemas/`);
    refs.add(match[1]);
    return new SchemaRef(match[1]);
  }

  const out = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (annotations.has(keyword)) continue;
    const at = `${where}.${keyword}`;
    switch (keyword) {
      case 'type':
        if (!types.includes(value)) fail(at, `type ${JSON.stringify(value)} is not supported`);
        break;
      case 'properties':
        if (!isPlainObject(value)) fail(at, 'must be an object');
        out.properties = {};
        for (const [name, member] of Object.entries(value)) {
          if (name === '__proto__') fail(at, 'a member named __proto__ is not supported');
          out.properties[name] = toDescriptor(member, `${at}.${name}`, refs);
        }
        continue;
      case 'required':
        if (!Array.isArray(value) || !value.every((name) => typeof name === 'string'))
          fail(at, 'must be a list of names');
        if (!value.every((name) => Object.hasOwn(schema.properties ?? {}, name)))
          fail(at, 'names a member that is not in `properties`');
        if (value.length === 0) continue;
        break;
      case 'additionalProperties':
        // `false` and no keyword both mean a closed object, whose unknown members are dropped.
        if (value !== true && value !== false) fail(at, 'only true or false is supported');
        if (value === false) continue;
        break;
      case 'items':
        out.items = toDescriptor(value, at, refs);
        continue;
      case 'minLength':
        if (!Number.isSafeInteger(value) || value < 0) fail(at, 'must be a whole number >= 0');
        break;
      case 'minimum':
        if (typeof value !== 'number' || !Number.isFinite(value)) fail(at, 'must be a number');
        break;
      case 'format':
        if (value !== 'uri') fail(at, `format ${JSON.stringify(value)} is not supported`);
        break;
      case 'pattern':
        if (typeof value !== 'string') fail(at, 'must be a string');
        try {
          new RegExp(value);
        } catch {
          fail(at, 'is not a valid regular expression');
        }
        break;
      case 'const':
        if (!isPrimitive(value)) fail(at, 'only a string, number, boolean or null is supported');
        break;
      case 'enum':
        if (!Array.isArray(value) || value.length === 0 || !value.every(isPrimitive))
          fail(at, 'must be a non-empty list of strings, numbers, booleans or null');
        break;
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
        if (!Array.isArray(value) || value.length === 0) fail(at, 'must be a non-empty list');
        out[keyword] = value.map((member, index) => toDescriptor(member, `${at}[${index}]`, refs));
        continue;
      default:
        fail(
          at,
          `keyword "${keyword}" is not understood: teach scripts/lib/schema-descriptors.mjs and ` +
            'src/runtime/shared/validate.ts to check it, or drop it from openapi.yaml',
        );
    }
    out[keyword] = value;
  }

  const present = Object.keys(out);
  const combined = present.filter((keyword) => combinators.includes(keyword));
  if (combined.length > 0 && present.length > 1)
    fail(where, `${combined[0]} beside other validation keywords is not supported`);
  for (const keyword of present) {
    const allowed = typeOf[keyword];
    if (allowed && !allowed.includes(out.type))
      fail(`${where}.${keyword}`, `needs type ${allowed.join(' or ')} beside it`);
  }
  for (const value of [...('const' in out ? [out.const] : []), ...(out.enum ?? [])]) {
    const type = jsonType(value);
    if (
      out.type !== undefined &&
      out.type !== type &&
      !(out.type === 'number' && type === 'integer')
    )
      fail(where, `${JSON.stringify(value)} is not of type ${out.type}`);
  }
  return Object.fromEntries(order.filter((key) => key in out).map((key) => [key, out[key]]));
}

const identifier = /^[A-Za-z_$][\w$]*$/;

/** Schema names become constants: they must be identifiers that clash with nothing. */
const taken = new Set(['Schema', 'SchemaNode', 'components']);

function checkName(name) {
  let valid = identifier.test(name) && !taken.has(name);
  try {
    // Rejects reserved words (`default`, `class`) the pattern lets through.
    if (valid) new Function(`"use strict"; const ${name} = 0;`);
  } catch {
    valid = false;
  }
  if (!valid) fail(`components.schemas.${name}`, 'the name must be a free JavaScript identifier');
}

/**
 * Every schema's descriptor, each after the schemas it refers to (constants cannot be used
 * before they are declared). Throws on a reference to a missing schema or a cycle.
 *
 * @param {Record<string, unknown>} schemas `components.schemas` of openapi.yaml
 * @returns {Array<{ name: string, description: string | undefined, descriptor: object }>}
 */
export function buildDescriptors(schemas) {
  const built = new Map();
  for (const [name, schema] of Object.entries(schemas)) {
    checkName(name);
    const refs = new Set();
    const descriptor = toDescriptor(schema, `components.schemas.${name}`, refs);
    for (const ref of refs) {
      if (!Object.hasOwn(schemas, ref))
        fail(`components.schemas.${name}`, `$ref to unknown schema "${ref}"`);
    }
    built.set(name, { name, description: schema.description, descriptor, refs });
  }
  const sorted = [];
  const state = new Map();
  const visit = (name, chain) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      fail(
        `components.schemas.${name}`,
        `recursive schemas are not supported (${chain.join(' → ')})`,
      );
    state.set(name, 'visiting');
    const entry = built.get(name);
    for (const ref of entry.refs) visit(ref, [...chain, ref]);
    state.set(name, 'done');
    sorted.push({ name, description: entry.description, descriptor: entry.descriptor });
  };
  for (const name of built.keys()) visit(name, [name]);
  return sorted;
}

const quote = (text) =>
  `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;

const width = 100;

/**
 * Source text of a descriptor value: on one line when it fits in {@link width} after the `used`
 * characters already on that line, else one member a line.
 */
function print(value, indent, used) {
  if (value instanceof SchemaRef) return value.name;
  if (typeof value === 'string') return quote(value);
  if (!isPlainObject(value) && !Array.isArray(value)) return String(value);
  const inner = `${indent}  `;
  const member = (prefix, item) =>
    `${prefix}${print(item, inner, inner.length + prefix.length + 1)}`;
  const parts = Array.isArray(value)
    ? value.map((item) => member('', item))
    : Object.entries(value).map(([key, item]) =>
        member(`${identifier.test(key) ? key : quote(key)}: `, item),
      );
  if (parts.length === 0) return Array.isArray(value) ? '[]' : '{}';
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{ ', ' }'];
  const line = `${open}${parts.join(', ')}${close}`;
  if (!line.includes('\n') && used + line.length <= width) return line;
  return `${open.trim()}\n${parts.map((part) => `${inner}${part},`).join('\n')}\n${indent}${close.trim()}`;
}

/** A TSDoc block for a description from the spec (`*\/` cannot end it early). */
function docComment(text) {
  const lines = text.trim().replace(/\*\//g, '*\\/').split('\n');
  return `/**\n${lines.map((line) => ` *${line ? ` ${line}` : ''}`).join('\n')}\n */\n`;
}

const preamble = `import type { components } from './openapi.js';

/**
 * The part of a JSON Schema (OpenAPI 3.1) that src/runtime/shared/validate.ts checks:
 * validation keywords only, annotations dropped, each \`$ref\` replaced by the constant of the
 * schema it names. An object without \`additionalProperties: true\` is closed: members not in
 * \`properties\` are dropped, as zod's \`z.object\` does. \`minLength\` counts UTF-16 code units.
 */
export interface SchemaNode {
  readonly type?: 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'object' | 'array';
  readonly const?: string | number | boolean | null;
  readonly enum?: ReadonlyArray<string | number | boolean | null>;
  readonly format?: 'uri';
  readonly minLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly items?: SchemaNode;
  readonly properties?: { readonly [name: string]: SchemaNode };
  readonly required?: readonly string[];
  readonly additionalProperties?: true;
  readonly anyOf?: readonly SchemaNode[];
  readonly oneOf?: readonly SchemaNode[];
  readonly allOf?: readonly SchemaNode[];
}

declare const valid: unique symbol;

/** A {@link SchemaNode} whose valid values have type \`T\`. \`T\` exists for the compiler only. */
export type Schema<T> = SchemaNode & { readonly [valid]?: T };
`;

/**
 * The source of src/generated/schemas.ts (after the header) for `components.schemas`.
 *
 * @param {Record<string, unknown>} schemas
 * @returns {string}
 */
export function schemasModule(schemas) {
  const constants = buildDescriptors(schemas).map(
    ({ name, description, descriptor }) =>
      `${typeof description === 'string' ? docComment(description) : ''}` +
      `export const ${name}: Schema<components['schemas']['${name}']> = ${print(descriptor, '', width)};\n`,
  );
  return [preamble, ...constants].join('\n');
}
