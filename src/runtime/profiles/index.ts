/** The profile table: one entry per {@link ProfileName}, each a plain data object. */
import { auth0 } from './auth0.js';
import { authentik } from './authentik.js';
import { cognito } from './cognito.js';
import { duende } from './duende.js';
import { entra } from './entra.js';
import { google } from './google.js';
import { keycloak } from './keycloak.js';
import { okta } from './okta.js';
import { pingone } from './pingone.js';
import type { IdpProfile, ProfileName } from './types.js';
import { zitadel } from './zitadel.js';

export type { IdpProfile, ProfileName } from './types.js';

/** Every profile, keyed by its name. */
export const profiles: Readonly<Record<ProfileName, IdpProfile>> = Object.freeze({
  keycloak,
  entra,
  auth0,
  okta,
  cognito,
  google,
  pingone,
  duende,
  zitadel,
  authentik,
});
