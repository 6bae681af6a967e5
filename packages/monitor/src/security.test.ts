import { describe, expect, it } from 'vitest';
import { BasicAuth, CsrfTokens, crossSiteReason } from './security.js';

const basic = (credentials: string): string => `Basic ${btoa(credentials)}`;

describe('BasicAuth', () => {
  const auth = new BasicAuth([
    { user: 'admin', password: 's3cret' },
    { user: 'ops', password: 'p:w' },
  ]);

  it('accepts each known user with the right password', async () => {
    expect(await auth.check(basic('admin:s3cret'))).toBe('admin');
    expect(await auth.check(basic('ops:p:w'))).toBe('ops');
    expect(await auth.check(`basic   ${btoa('admin:s3cret')}`)).toBe('admin');
  });

  it('refuses wrong, swapped, missing and malformed credentials', async () => {
    for (const header of [basic('admin:wrong'), basic('admin:p:w'), basic('nobody:s3cret'), basic('admin'), 'Bearer x', 'Basic !!!', null, basic('')]) {
      expect(await auth.check(header), String(header)).toBeNull();
    }
  });
});

describe('CsrfTokens', () => {
  it('verifies the token of a session, and only of that session and monitor', async () => {
    const tokens = new CsrfTokens();
    const session = tokens.newSession();
    expect(session).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const token = await tokens.tokenFor(session);
    expect(await tokens.verify(session, token)).toBe(true);
    expect(await tokens.verify(tokens.newSession(), token)).toBe(false);
    expect(await tokens.verify(session, null)).toBe(false);
    expect(await tokens.verify(session, `${token}x`)).toBe(false);
    // Another monitor (another key) does not accept it.
    expect(await new CsrfTokens().verify(session, token)).toBe(false);
  });
});

describe('crossSiteReason', () => {
  const post = (headers: Record<string, string>): Request => new Request('http://127.0.0.1:5555/api/task/revoke/x', { method: 'POST', headers });

  it('lets a script with no Origin, and a same-origin page, through', () => {
    expect(crossSiteReason(post({}))).toBeNull();
    expect(crossSiteReason(post({ origin: 'http://127.0.0.1:5555' }))).toBeNull();
    expect(crossSiteReason(post({ referer: 'http://127.0.0.1:5555/tasks' }))).toBeNull();
    expect(crossSiteReason(post({ 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:5555' }))).toBeNull();
  });

  it('refuses another Origin, another Referer, and what the browser calls cross-site or same-site', () => {
    expect(crossSiteReason(post({ origin: 'https://evil.example' }))).toMatch(/Origin/);
    expect(crossSiteReason(post({ origin: 'http://127.0.0.1:5556' }))).toMatch(/Origin/);
    expect(crossSiteReason(post({ origin: 'null' }))).toMatch(/Origin/);
    expect(crossSiteReason(post({ referer: 'https://evil.example/page' }))).toMatch(/Referer/);
    expect(crossSiteReason(post({ referer: 'not a url' }))).toMatch(/Referer/);
    expect(crossSiteReason(post({ 'sec-fetch-site': 'cross-site' }))).toMatch(/Sec-Fetch-Site/);
    expect(crossSiteReason(post({ 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:5555' }))).toMatch(/Sec-Fetch-Site/);
  });
});
