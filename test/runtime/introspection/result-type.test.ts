/**
 * `IntrospectionResult` is written out by hand so each member has its documentation; these type
 * tests hold it to `IntrospectionResponse` as openapi-typescript generates it from the spec, so a
 * change to either without the other fails the typecheck.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { components } from '../../../src/generated/openapi.js';
import type { IntrospectionResult } from '../../../src/server.js';

type Generated = components['schemas']['IntrospectionResponse'];
/** The named members of an object type, without its index signature. */
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
type Member<T, K extends PropertyKey> = K extends keyof T ? T[K] : never;

describe('IntrospectionResult', () => {
  it('names the members the spec names, no more and no fewer', () => {
    expectTypeOf<KnownKeys<IntrospectionResult>>().toEqualTypeOf<KnownKeys<Generated>>();
  });

  it('gives each member the type the spec gives it', () => {
    expectTypeOf<IntrospectionResult>().toExtend<Generated>();
    expectTypeOf<Generated>().toExtend<IntrospectionResult>();
    expectTypeOf<Member<IntrospectionResult, 'aud'>>().toEqualTypeOf<Member<Generated, 'aud'>>();
    expectTypeOf<KnownKeys<NonNullable<IntrospectionResult['cnf']>>>().toEqualTypeOf<
      KnownKeys<NonNullable<Generated['cnf']>>
    >();
  });
});
