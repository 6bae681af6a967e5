import { describe, expect, it } from 'vitest';
import { RateLimitedLog, type Logger } from './logger.js';

function recording(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const ignore = (): void => {};
  return { lines, logger: { debug: ignore, info: ignore, warn: (message) => lines.push(`warn ${message}`), error: (message) => lines.push(`error ${message}`) } };
}

describe('RateLimitedLog', () => {
  it('logs the first problem of a kind at once and counts the rest of the window', () => {
    let now = 0;
    const { logger, lines } = recording();
    const log = new RateLimitedLog(logger, 60_000, () => now);
    log.warn('control message', 'dropped one');
    for (let i = 0; i < 500; i++) log.warn('control message', 'dropped another');
    expect(lines).toStrictEqual(['warn dropped one']);
    now = 61_000;
    log.warn('control message', 'dropped a last one');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('warn dropped a last one (500 more of this kind since the last report, 61 s ago)');
  });

  it('limits each kind separately', () => {
    const { logger, lines } = recording();
    const log = new RateLimitedLog(logger, 60_000, () => 0);
    log.warn('reply', 'a');
    log.error('entry', 'b');
    log.warn('reply', 'c');
    expect(lines).toStrictEqual(['warn a', 'error b']);
  });

  it('survives a logger that throws', () => {
    const log = new RateLimitedLog({
      debug: () => {},
      info: () => {},
      warn: () => {
        throw new Error('broken logger');
      },
      error: () => {},
    });
    expect(() => log.warn('kind', 'message')).not.toThrow();
  });
});
