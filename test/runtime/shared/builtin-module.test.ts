/**
 * Node built-ins found at run time: what Node has, nothing where `process.getBuiltinModule` is
 * missing or fails. The runtime matrix (test/runtimes) checks the same on Bun, Deno and workerd.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as crypto from 'node:crypto';
import { builtinModule, hasBuiltinModules } from '../../../src/runtime/shared/builtin-module.js';

const original = Object.getOwnPropertyDescriptor(process, 'getBuiltinModule');

function replaceLoader(value: unknown): void {
  Object.defineProperty(process, 'getBuiltinModule', { value, configurable: true, writable: true });
}

afterEach(() => {
  if (original) Object.defineProperty(process, 'getBuiltinModule', original);
});

describe('builtinModule', () => {
  it('gives the built-in module Node has', () => {
    expect((builtinModule('node:crypto') as typeof crypto | undefined)?.createHash).toBe(
      crypto.createHash,
    );
  });

  it('gives undefined for a module the runtime does not have', () => {
    expect(builtinModule('node:no-such-module')).toBeUndefined();
  });

  it('gives undefined where the runtime has no getBuiltinModule, and says it has none', () => {
    expect(hasBuiltinModules()).toBe(true);
    replaceLoader(undefined);
    expect(builtinModule('node:crypto')).toBeUndefined();
    expect(hasBuiltinModules()).toBe(false);
  });

  it('gives undefined, not an error, when the loader throws', () => {
    replaceLoader(() => {
      throw new TypeError('not allowed here');
    });
    expect(builtinModule('node:crypto')).toBeUndefined();
  });

  it('calls the loader on process, as Node requires', () => {
    const receivers: unknown[] = [];
    replaceLoader(function (this: unknown) {
      receivers.push(this);
      return { loaded: true };
    });
    expect(builtinModule('node:crypto')).toEqual({ loaded: true });
    expect(receivers).toEqual([process]);
  });
});
