/**
 * The error a call throws or a promise rejects with, checked to be of the class a test expects,
 * and how an error looks wherever it may be shown: tests assert on its fields and on what it
 * never holds.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { OptionError } from '../../src/runtime/shared/options.js';

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** What `run` throws, after checking it is an `ErrorClass`; fails the test when nothing is thrown. */
export function thrownBy<E>(run: () => unknown, errorClass: ErrorClass<E>): E {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(errorClass);
    return error as E;
  }
  throw new Error(`expected ${errorClass.name} to be thrown`);
}

/** What `run` throws, checked to be an `OptionError`: how a bad option is refused. */
export function optionErrorOf(run: () => unknown): OptionError {
  return thrownBy(run, OptionError);
}

/** What `promise` rejects with, after checking it is an `ErrorClass`; fails the test when it resolves. */
export async function rejectionOf<E>(
  promise: Promise<unknown>,
  errorClass: ErrorClass<E>,
): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(errorClass);
  return error as E;
}

/** An error as `String()` and `util.inspect` show it: where a secret must never appear. */
export function shown(error: unknown): string {
  return `${String(error)} ${inspect(error, { depth: 5 })}`;
}
