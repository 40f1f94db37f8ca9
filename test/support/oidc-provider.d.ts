// The slice of oidc-provider's API the test IdP uses. The package ships no type declarations.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** Provider configuration; see oidc-provider's docs/README.md. Loosely typed on purpose. */
  export type Configuration = Record<string, unknown>;

  /** What oidc-provider hands to policies and `getResourceServerInfo` as the client. */
  export interface ClientLike {
    clientId: string;
    clientAuthMethod: string;
    [key: string]: unknown;
  }

  /** A token as oidc-provider models it (access token, client-credentials token, …). */
  export interface TokenLike {
    kind: string;
    clientId?: string;
    jti: string;
    [key: string]: unknown;
  }

  export interface OIDCProviderError extends Error {
    error: string;
    error_description?: string;
    status: number;
    statusCode: number;
    expose: boolean;
  }

  type ErrorClass = new (description?: string, detail?: string) => OIDCProviderError;

  export const errors: {
    OIDCProviderError: ErrorClass;
    InvalidTarget: ErrorClass;
    InvalidScope: ErrorClass;
    InvalidRequest: ErrorClass;
    InvalidClient: ErrorClass;
    InvalidGrant: ErrorClass;
    [name: string]: ErrorClass;
  };

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** Koa's request listener, for `http.createServer`. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: never[]) => void): this;
    off(event: string, listener: (...args: never[]) => void): this;
    urlFor(name: string, options?: Record<string, unknown>): string;
    proxy: boolean;
  }

  export default Provider;
}
