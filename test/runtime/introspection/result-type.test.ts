/**
 * `IntrospectionResult` is `IntrospectionResponse` as openapi-typescript generates it from the
 * spec; these type tests pin the public shape it must keep, `{ active: boolean, ...claims }`.
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

  it('keeps the public shape: a boolean active, typed registered claims, any other claim unknown', () => {
    expectTypeOf<IntrospectionResult['active']>().toEqualTypeOf<boolean>();
    expectTypeOf<IntrospectionResult['exp']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<IntrospectionResult['scope']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<IntrospectionResult['custom_claim']>().toEqualTypeOf<unknown>();
    expectTypeOf<NonNullable<IntrospectionResult['cnf']>['jkt']>().toEqualTypeOf<
      string | undefined
    >();
    expectTypeOf({ active: false }).toExtend<IntrospectionResult>();
  });
});
