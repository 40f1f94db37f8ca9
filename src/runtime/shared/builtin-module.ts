const host = globalThis as { process?: { getBuiltinModule?: unknown } };

/** Whether the runtime offers Node.js built-in modules at all (`process.getBuiltinModule`). */
export function hasBuiltinModules(): boolean {
  return typeof host.process?.getBuiltinModule === 'function';
}

/**
 * A Node.js built-in module (`node:crypto`, `node:fs/promises`, `node:module`), found at run
 * time through `process.getBuiltinModule` (Node 20.16+, Bun, Deno) so that the default build
 * imports nothing from `node:`. `undefined` on a runtime without them (Workers, browsers) or
 * for a module the runtime does not have. There is no `import()` of a computed name as a
 * fallback: Workers' module loaders refuse one anywhere in the bundle.
 */
export function builtinModule(id: string): unknown {
  const load = host.process?.getBuiltinModule;
  if (typeof load !== 'function') return undefined;
  try {
    return (load.call(host.process, id) as unknown) ?? undefined;
  } catch {
    return undefined;
  }
}
