/**
 * Option aliases: the spellings of the products s2s-auth grew from (`fetchImpl`,
 * `defaultScope`, `clockToleranceSec`), kept so that code written for them runs unchanged.
 * An alias is renamed to its option before the options are checked; giving both is an error.
 */
export function applyAliases<T extends object>(
  options: T,
  aliases: Readonly<Record<string, string>>,
  where: string,
): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options;
  let renamed: Record<string, unknown> | undefined;
  for (const [alias, name] of Object.entries(aliases)) {
    if (!Object.hasOwn(options, alias)) continue;
    const source = options as Record<string, unknown>;
    if (Object.hasOwn(options, name) && source[name] !== undefined && source[alias] !== undefined) {
      throw new TypeError(
        `${where}: \`${alias}\` is another name for \`${name}\`; give one of them, not both`,
      );
    }
    renamed ??= { ...source };
    const value = renamed[alias];
    delete renamed[alias];
    if (value !== undefined || !Object.hasOwn(renamed, name)) renamed[name] = value;
  }
  return (renamed ?? options) as T;
}
