import { profiles } from '../profiles/index.js';
import type { AuthClientProfile, ProfileName } from '../profiles/types.js';
import { closestKey, OptionError } from '../shared/options.js';

const names = Object.keys(profiles) as ProfileName[];

/**
 * The client half of the profile `value` names, or `undefined` without one. An unknown name is
 * a `TypeError` that lists the profiles and names the closest one.
 */
export function resolveClientProfile(value: unknown, where: string): AuthClientProfile | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && Object.hasOwn(profiles, value)) {
    return profiles[value as ProfileName].client;
  }
  const suggestion = typeof value === 'string' ? closestKey(value, names) : undefined;
  const shown =
    typeof value === 'string' && /^[\x21-\x7e]{1,32}$/.test(value)
      ? `"${value}"`
      : typeof value === 'string'
        ? 'a string that names no profile'
        : typeof value;
  throw new OptionError(
    `${where}: \`profile\` must be one of ${names.join(', ')}; got ${shown}${
      suggestion === undefined ? '' : `; did you mean '${suggestion}'?`
    }`,
    'ERR_INVALID_OPTION',
    'profile',
  );
}
