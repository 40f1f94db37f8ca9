import { OptionError, rejectUnknownOptions } from './options.js';

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
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
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

/**
 * `rejectUnknownOptions` for options that also take aliases (`known` lists both): a misspelt
 * key whose closest name is an alias is pointed at the option the alias stands for, so
 * `clockTolerance` suggests `clockToleranceSeconds`, not `clockToleranceSec`.
 */
export function rejectUnknownAliasedOptions(
  options: unknown,
  known: readonly string[],
  aliases: Readonly<Record<string, string>>,
  where: string,
): asserts options is object {
  try {
    rejectUnknownOptions(options, known, where);
  } catch (error) {
    const suggestion = error instanceof OptionError ? error.suggestion : undefined;
    if (suggestion === undefined || !Object.hasOwn(aliases, suggestion)) throw error;
    const meant = aliases[suggestion]!;
    const { message, code, option } = error as OptionError;
    throw new OptionError(
      message.replace(`did you mean \`${suggestion}\`?`, `did you mean \`${meant}\`?`),
      code,
      option,
      meant,
    );
  }
}

/** The name `option` was given under in `options`: an alias of it when the caller used one. */
export function givenName(
  options: object,
  option: string,
  aliases: Readonly<Record<string, string>>,
): string {
  for (const [alias, name] of Object.entries(aliases)) {
    if (name === option && (options as Record<string, unknown>)[alias] !== undefined) return alias;
  }
  return option;
}
