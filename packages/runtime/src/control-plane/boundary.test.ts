import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const here = new URL('./', import.meta.url);
const sources = readdirSync(here).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));

/** Every module specifier a file imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(new URL(file, here), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((match) => match[1]!);
}

const ALLOWED = ['../connection.js', '../errors.js', '../keys.js', '../logger.js', '../repr.js', '../subscriber.js', '../lua.js', '../lua-scripts.generated.js'];

describe('control-plane boundary', () => {
  it('depends on no module of the worker, app, revoke or waiter layers', () => {
    // Shared foundations only: errors, key names, logging, value summaries, the app's subscriber,
    // and the Redis client type (one Redis or a cluster) with how to copy one.
    // The control plane is wired into those layers, not built on them: the worker implements
    // ControlTarget and the app calls createControlPlane, so they can change freely.
    expect(sources.length).toBeGreaterThan(5);
    for (const file of sources) {
      const outside = importsOf(file).filter((specifier) => specifier.startsWith('../'));
      expect({ file, outside: outside.filter((specifier) => !ALLOWED.includes(specifier)) }).toStrictEqual({ file, outside: [] });
    }
  });

  it('re-exports named items only from its index', () => {
    expect(readFileSync(new URL('index.ts', here), 'utf8')).not.toMatch(/export\s*\*/);
  });
});
