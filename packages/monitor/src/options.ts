/**
 * The monitor's options, with Flower's flags and meanings (`--port`, `--address`, `--url_prefix`,
 * `--basic-auth`, `--max_tasks`, `--inspect_timeout`), and their checks. Everything here is plain
 * data and runs anywhere: the server file adds only what needs Node.
 */
import type { Logger } from '@celeriac/runtime';
import { MonitorOptionError } from './errors.js';

/** Options of `createMonitor(app, options)`. An option given as `undefined` counts as not given. */
export interface MonitorOptions {
  /**
   * Serve under this path, as Flower's `--url_prefix` (behind a proxy that passes it on):
   * `"flower"` or `"/flower"` serves the workers page at `/flower/`. Default: the root.
   */
  readonly urlPrefix?: string | undefined;
  /**
   * Users allowed in, as Flower's `--basic-auth`: `"user:pass"`, `"user:pass,user2:pass2"`, or a
   * list of `"user:pass"`. Default: no authentication (fine on 127.0.0.1 only).
   */
  readonly basicAuth?: string | readonly string[] | undefined;
  /** Show no action and refuse every state-changing request with 403. Default false. */
  readonly readOnly?: boolean | undefined;
  /**
   * Tasks the monitor keeps in memory from the task events (Flower's `--max_tasks`); the oldest
   * are forgotten first. Default 100 000 (about 60 MB with 1 KB of args and result per task).
   */
  readonly maxTasks?: number | undefined;
  /** Milliseconds to wait for workers' replies to inspect and control commands (Flower's `--inspect_timeout`). Default 1 000. */
  readonly inspectTimeout?: number | undefined;
  /** Where server errors are logged (with their stack; clients only see a generic message). Default: the console, warnings and above. */
  readonly logger?: Logger | undefined;
}

/** Options of `startMonitor(app, options)`: {@link MonitorOptions} plus where to listen. */
export interface StartMonitorOptions extends MonitorOptions {
  /** TCP port, as Flower's `--port`; 0 picks a free one. Default 5555. */
  readonly port?: number | undefined;
  /** Address to listen on, as Flower's `--address`. Default `127.0.0.1` (this machine only). */
  readonly address?: string | undefined;
  /**
   * Allow listening on an address other machines can reach without `basicAuth`. Without it,
   * `startMonitor` refuses such an address with `MonitorOptionError` (code `MONITOR_INSECURE`).
   */
  readonly insecure?: boolean | undefined;
}

/** A user allowed in by basic auth. */
export interface MonitorUser {
  readonly user: string;
  readonly password: string;
}

/** The options, checked and with their defaults. */
export interface MonitorSettings {
  /** `""` or a path without a trailing slash, e.g. `/flower`. */
  readonly prefix: string;
  readonly users: readonly MonitorUser[];
  readonly readOnly: boolean;
  readonly maxTasks: number;
  readonly inspectTimeout: number;
  readonly logger: Logger | undefined;
}

/** Defaults, as Flower's where Flower has the option. */
export const DEFAULT_PORT = 5555;
export const DEFAULT_ADDRESS = '127.0.0.1';
export const DEFAULT_MAX_TASKS = 100_000;
export const DEFAULT_INSPECT_TIMEOUT = 1_000;

/** Characters a URL prefix may hold: unreserved path characters and slashes. */
const PREFIX_CHARS = /^[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;

/**
 * Checks the options of `createMonitor` and fills in the defaults.
 *
 * @param options - as given
 * @returns the settings the monitor runs with
 * @throws MonitorOptionError naming the first bad option
 */
export function parseMonitorOptions(options: MonitorOptions): MonitorSettings {
  if (typeof options !== 'object' || options === null) throw new MonitorOptionError('options', `expected an object, got ${String(options)}`);
  return {
    prefix: parseUrlPrefix(options.urlPrefix),
    users: parseBasicAuth(options.basicAuth),
    readOnly: parseFlag('readOnly', options.readOnly),
    maxTasks: parseWhole('maxTasks', options.maxTasks ?? DEFAULT_MAX_TASKS, 1, 10_000_000),
    inspectTimeout: parseWhole('inspectTimeout', options.inspectTimeout ?? DEFAULT_INSPECT_TIMEOUT, 1, 60_000),
    logger: options.logger,
  };
}

/**
 * Normalises a URL prefix as Flower does with `--url_prefix`: `flower`, `/flower` and `/flower/`
 * all become `/flower`; an empty one, or `/`, serves at the root.
 *
 * @param prefix - as given
 * @returns `""` or `/segment[/segment…]`
 */
export function parseUrlPrefix(prefix: string | undefined): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string') throw new MonitorOptionError('urlPrefix', `expected a path such as "/flower", got ${String(prefix)}`);
  if (!PREFIX_CHARS.test(prefix) || prefix.includes('//') || /(^|\/)\.\.?(\/|$)/.test(prefix)) {
    throw new MonitorOptionError('urlPrefix', `expected a path such as "/flower" (letters, digits, "-", "_", "." and "/"), got ${JSON.stringify(prefix)}`);
  }
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

/**
 * Reads Flower's `--basic-auth` value: `user:pass[,user2:pass2]`, or a list of `user:pass`. The
 * password is everything after the first colon (it may hold colons, not commas).
 *
 * @param value - as given
 * @returns the users; empty when not given
 */
export function parseBasicAuth(value: string | readonly string[] | undefined): MonitorUser[] {
  if (value === undefined) return [];
  const entries = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (entries === null) throw new MonitorOptionError('basicAuth', `expected "user:password[,user2:password2]" or a list of "user:password", got ${String(value)}`);
  const users: MonitorUser[] = [];
  for (const [i, entry] of entries.entries()) {
    const at = typeof entry === 'string' ? entry.indexOf(':') : -1;
    const user = at > 0 ? (entry as string).slice(0, at) : '';
    const password = at > 0 ? (entry as string).slice(at + 1) : '';
    if (user === '' || password === '' || /[\s\0]/.test(user)) {
      throw new MonitorOptionError('basicAuth', `entry ${i + 1} is not "user:password" with a non-empty user and password (got ${JSON.stringify(typeof entry === 'string' ? entry.replace(/:.*/, ':…') : entry)})`);
    }
    if (users.some((known) => known.user === user)) throw new MonitorOptionError('basicAuth', `user "${user}" is listed twice`);
    users.push({ user, password });
  }
  if (users.length === 0) throw new MonitorOptionError('basicAuth', 'expected at least one "user:password"');
  return users;
}

/**
 * Checks the listening options of `startMonitor`.
 *
 * @param options - as given
 * @param users - the parsed `basicAuth` users
 * @returns the port and address to listen on
 * @throws MonitorOptionError for a bad port or address, or (code `MONITOR_INSECURE`) a reachable address without auth or `insecure`
 */
export function parseListenOptions(options: StartMonitorOptions, users: readonly MonitorUser[]): { port: number; address: string } {
  const port = parseWhole('port', options.port ?? DEFAULT_PORT, 0, 65_535);
  const address = options.address ?? DEFAULT_ADDRESS;
  if (typeof address !== 'string' || address.trim() === '' || /[\s/]/.test(address)) {
    throw new MonitorOptionError('address', `expected a host name or IP address such as "127.0.0.1", got ${JSON.stringify(address)}`);
  }
  const insecure = parseFlag('insecure', options.insecure);
  if (!isLoopback(address) && users.length === 0 && !insecure) {
    throw new MonitorOptionError(
      'address',
      `"${address}" can be reached from other machines, and the monitor shows task arguments and can revoke tasks and shut workers down: ` +
        'give basicAuth ("user:password", --basic-auth user:password), or pass insecure (--insecure) to serve it without authentication',
      'MONITOR_INSECURE',
    );
  }
  return { port, address: address.replace(/^\[(.*)\]$/, '$1') };
}

/** Whether an address is reachable from this machine only: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopback(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.replace(/^::ffff:/, '');
  const parts = v4.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}

function parseFlag(option: string, value: boolean | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new MonitorOptionError(option, `expected true or false, got ${String(value)}`);
  return value;
}

function parseWhole(option: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new MonitorOptionError(option, `expected a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}
