/**
 * A real server for the whole test file: started before its tests, stopped after them, one line
 * in the file instead of a `let`, a `beforeAll` and an `afterAll`.
 *
 * @example
 * ```ts
 * const idp = startForFile(() => startGlewlwyd());
 * it('gets a token', async () => {
 *   await createAuthClient({ issuer: idp.issuer, ...idp.clients.basic }).getToken();
 * });
 * ```
 */
import { afterAll, beforeAll } from 'vitest';

/**
 * Starts what `start` makes in `beforeAll` and closes it in `afterAll`. The handle returned
 * stands for it: read it inside tests and hooks, where it is started; read earlier (while the
 * file's tests are being collected), it throws.
 */
export function startForFile<T extends { close(): Promise<void> }>(start: () => Promise<T>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as T, {
    get(_target, property) {
      if (started === undefined) {
        throw new Error(`read \`${String(property)}\` of a server before beforeAll started it`);
      }
      const value: unknown = Reflect.get(started, property, started);
      return typeof value === 'function' ? (value.bind(started) as unknown) : value;
    },
  });
}
