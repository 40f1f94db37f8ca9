// The local authorization server of the demo: the one `s2s-auth dev-idp` runs (oidc-provider on
// 127.0.0.1 with client credentials, RFC 8707 resources, JWT and opaque access tokens,
// introspection, revocation and DPoP), from the built package. `npm run demo` builds it first.
//
// It is a development stand-in for your IdP (Auth0, Keycloak, Entra ID, Okta, ...), not a
// production server: keys are made fresh at start, nothing is persisted, and the client
// credentials are fixed development values.
export {
  DEV_CLIENT as CLIENT,
  DEV_INTROSPECTOR as INTROSPECTOR,
  LEDGER_API,
  ORDERS_API,
  startDevIdp as startLocalIdp,
} from '../dist/dev-idp.js';
