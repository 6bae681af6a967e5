/**
 * Who may do what: basic auth (Flower's `--basic-auth`), and the refusal of cross-site requests.
 * Everything uses Web Crypto, so it runs wherever the handler runs.
 *
 * Cross-site requests. A browser that holds basic-auth credentials for the monitor sends them with
 * every request to it, including a form another site posts — so credentials alone cannot tell a
 * click in the monitor from a forged post. A state-changing request is refused (403) when:
 * - its `Origin`, or lacking one its `Referer`, is another origin than the monitor's, or its
 *   `Sec-Fetch-Site` says `cross-site`/`same-site`;
 * - it carries the monitor's session cookie (set by every page, `SameSite=Strict`) but not the
 *   CSRF token the page holds (an HMAC of the session id), in `X-CSRF-Token`.
 * A script authenticates with basic auth and sends neither `Origin` nor the cookie, so it passes.
 */
import type { MonitorUser } from './options.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'celeriac_monitor_session';
/** The request header that carries the CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

const encoder = new TextEncoder();

/**
 * Checks basic-auth credentials in constant time (per user): both sides are hashed, then compared
 * byte by byte without an early exit, so the time taken says nothing about the password.
 */
export class BasicAuth {
  private readonly hashed: Promise<{ user: Uint8Array; password: Uint8Array }[]>;

  constructor(users: readonly MonitorUser[]) {
    this.hashed = Promise.all(users.map(async ({ user, password }) => ({ user: await sha256(user), password: await sha256(password) })));
  }

  /**
   * Whether an `Authorization` header names a known user with the right password.
   *
   * @param header - the header's value, if any
   * @returns the user's name, or null
   */
  async check(header: string | null): Promise<string | null> {
    const match = header === null ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (match === null) return null;
    let decoded: string;
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)));
    } catch {
      return null;
    }
    const at = decoded.indexOf(':');
    if (at < 0) return null;
    const [user, password] = await Promise.all([sha256(decoded.slice(0, at)), sha256(decoded.slice(at + 1))]);
    let found: number | null = null;
    (await this.hashed).forEach((known, i) => {
      // Both comparisons always run: no early exit on the user name.
      const same = equalBytes(known.user, user) & equalBytes(known.password, password);
      if (same === 1 && found === null) found = i;
    });
    return found === null ? null : decoded.slice(0, at);
  }
}

/** Signs session ids into CSRF tokens with a key made for this monitor. */
export class CsrfTokens {
  private readonly key: ReturnType<typeof crypto.subtle.importKey>;

  constructor() {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    this.key = crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  }

  /** A new random session id. */
  newSession(): string {
    return base64url(crypto.getRandomValues(new Uint8Array(18)));
  }

  /**
   * The token a page of this session holds.
   *
   * @param session - the session id
   * @returns the token
   */
  async tokenFor(session: string): Promise<string> {
    return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', await this.key, encoder.encode(session))));
  }

  /**
   * Whether a token belongs to a session, compared in constant time.
   *
   * @param session - the session id from the cookie
   * @param token - the token from the header
   * @returns true when it does
   */
  async verify(session: string, token: string | null): Promise<boolean> {
    if (token === null) return false;
    const expected = encoder.encode(await this.tokenFor(session));
    return equalBytes(expected, encoder.encode(token)) === 1;
  }
}

/**
 * Why a state-changing request looks cross-site, or null when it does not (see the module comment
 * for the rules).
 *
 * @param request - the request
 * @returns a reason for the 403, or null
 */
export function crossSiteReason(request: Request): string | null {
  const own = new URL(request.url).origin;
  const fetchSite = request.headers.get('sec-fetch-site');
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') return `Sec-Fetch-Site is ${fetchSite}`;
  const origin = request.headers.get('origin');
  if (origin !== null) return origin === own ? null : `Origin ${origin} is not ${own}`;
  const referer = request.headers.get('referer');
  if (referer !== null) {
    let from: string;
    try {
      from = new URL(referer).origin;
    } catch {
      return 'the Referer is not a URL';
    }
    return from === own ? null : `Referer ${from} is not ${own}`;
  }
  return null;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** 1 when equal, else 0; the time depends only on the lengths. */
function equalBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0 ? 1 : 0;
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
