// Types of schema-descriptors.mjs, for the tests that import it.

/** A `$ref` to another schema of `components.schemas`, printed as the name of its constant. */
export declare class SchemaRef {
  constructor(name: string);
  readonly name: string;
}

/** A descriptor as built: plain data, with {@link SchemaRef} where the spec has `$ref`. */
export type Descriptor = Readonly<Record<string, unknown>>;

export declare function toDescriptor(
  schema: unknown,
  where: string,
  refs?: Set<string>,
): Descriptor | SchemaRef;

export declare function buildDescriptors(
  schemas: Record<string, unknown>,
): { name: string; description: string | undefined; descriptor: Descriptor | SchemaRef }[];

export declare function schemasModule(schemas: Record<string, unknown>): string;
