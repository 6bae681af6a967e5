/**
 * The app's Redis connection: what `createApp({ redis })` accepts, and how the app makes the
 * other connections it needs (BullMQ's blocking ones, the pub/sub subscriber) from it. Anything
 * that is not recognisably a Redis URL, ioredis options or an ioredis client is refused: silently
 * treating an unknown object as options would connect to 127.0.0.1:6379 instead.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ConnectionError, InvalidArgumentError, PermissionError } from './errors.js';
import type { Logger } from './logger.js';

/** What `createApp({ redis })` accepts. */
export type RedisInput = string | RedisOptions | Redis;

/** The app's connection, and whether the app owns it (and so closes it). */
export interface AppConnection {
  readonly client: Redis;
  readonly owned: boolean;
}

/** Milliseconds between attempts to reconnect to a Redis that is down. */
const RECONNECT_DELAY = 500;

/**
 * Opens (or adopts) the app's connection; `given` was checked by {@link checkRedisInput}. A
 * connection the app opens reconnects every {@link RECONNECT_DELAY} ms, and a command sent while
 * Redis is down fails after about `unavailableTimeout` ms (unless the options say otherwise), so
 * `apply` and friends never wait for an outage without end, and never run late.
 */
export function openConnection(given: RedisInput | undefined, unavailableTimeout: number): AppConnection {
  checkRedisInput(given);
  if (given instanceof Redis) return { client: given, owned: false };
  const bounded: RedisOptions = {
    retryStrategy: () => RECONNECT_DELAY,
    maxRetriesPerRequest: Math.max(1, Math.ceil(unavailableTimeout / RECONNECT_DELAY)),
    connectTimeout: Math.min(unavailableTimeout, 10_000),
  };
  if (given === undefined) return { client: new Redis(bounded), owned: true };
  return { client: typeof given === 'string' ? new Redis(given, bounded) : new Redis({ ...bounded, ...given }), owned: true };
}

/** Throws `InvalidArgumentError` unless `given` is a Redis URL, ioredis options or an ioredis client. */
export function checkRedisInput(given: unknown): asserts given is RedisInput | undefined {
  if (given === undefined || given instanceof Redis) return;
  if (typeof given === 'string') {
    if (!/^rediss?:\/\//.test(given)) {
      throw new InvalidArgumentError('redis', `expected a redis:// or rediss:// URL, got ${JSON.stringify(given.slice(0, 100))}`);
    }
    return;
  }
  if (typeof given !== 'object' || given === null) {
    throw new InvalidArgumentError('redis', `expected a Redis URL, ioredis options or an ioredis client, got ${given === null ? 'null' : typeof given}`);
  }
  if ((given as { isCluster?: unknown }).isCluster === true) {
    throw new InvalidArgumentError('redis', 'a Redis Cluster client is not supported by this version of Celeriac; pass a single Redis');
  }
  const proto: unknown = Object.getPrototypeOf(given);
  if (proto !== Object.prototype && proto !== null) {
    const kind = (given as { constructor?: { name?: unknown } }).constructor?.name;
    throw new InvalidArgumentError(
      'redis',
      `got an instance of ${typeof kind === 'string' ? kind : 'an unknown class'} that is not this package's ioredis Redis ` +
        '(is a second copy of ioredis installed? `npm ls ioredis` shows it); pass a URL or ioredis options instead',
    );
  }
}

/** TLS errors that retrying cannot fix: the server's certificate is not trusted as configured. */
const CERTIFICATE_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** `host:port` of a client, without credentials. */
export function addressOf(client: Redis): string {
  const { host, port, path } = client.options;
  return path !== undefined && path !== null && path !== '' ? path : `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

/**
 * Follows the app's connections. It remembers the last connection error, so a command that gives
 * up after its retries fails with the cause (not just "reached the max retries"), and it stops a
 * connection whose failure retrying cannot fix — an untrusted TLS certificate, a refused password
 * — so that commands fail within moments with that cause instead of after every retry.
 */
export class ConnectionWatch {
  private lastError: Error | undefined;
  private fatal: ConnectionError | undefined;
  /** Epoch ms the current outage began; undefined while Redis answers. */
  private downSince: number | undefined;

  constructor(
    private readonly address: string,
    /** The app's key prefix, named in what a missing permission says to grant. */
    private readonly prefix: string,
    /** Where an outage is reported: once when it begins, once when it ends. */
    private readonly logger: Logger,
  ) {}

  /**
   * Resolves to a `ConnectionError` once Redis has been unreachable for `ms` (checked a few
   * times a second); `cancel` stops watching. For waits that depend on Redis coming back.
   */
  unavailableFor(ms: number): { readonly promise: Promise<ConnectionError>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<ConnectionError>((resolve) => {
      timer = setInterval(() => {
        if (this.downSince === undefined || Date.now() - this.downSince < ms) return;
        const cause = this.lastError === undefined ? 'no answer' : describeCause(this.lastError);
        resolve(this.fatal ?? new ConnectionError(this.address, `Redis has not answered for ${ms} ms (${cause}); check that it runs and is reachable from here`));
      }, 250);
      timer.unref();
    });
    return { promise, cancel: () => clearInterval(timer) };
  }

  /**
   * Starts following `client`: its errors say when an outage begins, its `ready` when it ends;
   * `stop` says whether the watch may disconnect it on a fatal error. The client's errors need no
   * other listener: they are reported here, once per outage.
   */
  follow(client: Redis, stop: boolean): void {
    client.on('error', (error: Error) => {
      this.lastError = error;
      const fatal = fatalReason(error);
      if (fatal !== undefined) {
        if (this.fatal === undefined) this.logger.error(`Redis: ${fatal}`);
        this.fatal ??= new ConnectionError(this.address, fatal, error);
        if (stop) client.disconnect();
        return;
      }
      if (this.downSince !== undefined) return;
      this.downSince = Date.now();
      this.logger.warn(`lost the connection to Redis at ${this.address} (${describeCause(error)}); retrying until it is back`);
    });
    client.on('ready', () => {
      if (this.downSince === undefined) return;
      const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
      this.downSince = undefined;
      this.logger.warn(`the connection to Redis at ${this.address} is back, after ${seconds} s`);
    });
  }

  /** The error a caller should see for `error`: the fatal cause, a clear outage, or `error` itself. */
  translate(error: unknown): unknown {
    if (this.fatal !== undefined && isConnectionFailure(error)) return this.fatal;
    const denied = permissionOf(error, this.prefix);
    if (denied !== undefined) return denied;
    if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
      const cause = this.lastError === undefined ? 'no answer' : describeCause(this.lastError);
      return new ConnectionError(this.address, `Redis did not answer (${cause}); check that it runs and is reachable from here`, error);
    }
    return error;
  }
}

/** Why retrying cannot help, or undefined when it might. */
function fatalReason(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CERTIFICATE_ERRORS.has(code)) {
    return `its TLS certificate is not trusted (${code}: ${error.message}); pass the CA that signed it, e.g. createApp({ redis: { host, port, tls: { ca } } })`;
  }
  if (/^(WRONGPASS|NOAUTH)\b/.test(error.message)) {
    return `it refused the credentials (${error.message}); check the user and password in the URL or options`;
  }
  return undefined;
}

/** Whether `error` says a connection dropped or could not be made (it reconnects by itself). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED'].includes(code)) ||
    /Connection is closed|Stream isn't writeable|connect ECONNREFUSED|read ECONNRESET/.test(error.message)
  );
}

function isConnectionFailure(error: unknown): boolean {
  return error instanceof Error && (error.name === 'MaxRetriesPerRequestError' || /Connection is closed|WRONGPASS|NOAUTH/.test(error.message));
}

function describeCause(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}

/**
 * Turns Redis's NOPERM into a {@link PermissionError} naming what to grant: a command (`+info`),
 * the app's keys (`~<prefix>:*`) or channels (`&<prefix>:*`). Undefined for any other error.
 */
export function permissionOf(error: unknown, prefix = '<prefix>'): PermissionError | undefined {
  if (!(error instanceof Error) || !error.message.startsWith('NOPERM')) return undefined;
  const command = /'([^']+)' command/.exec(error.message)?.[1];
  if (command !== undefined) {
    return new PermissionError(
      `the Redis user may not run ${command.toUpperCase()} (${error.message}); grant it with ACL SETUSER <user> +${command.split('|')[0]} — see the README's Security section for the whole ACL line`,
      `+${command.split('|')[0]}`,
      error,
    );
  }
  if (/channel/.test(error.message)) {
    return new PermissionError(`the Redis user may not use the app's channels (${error.message}); grant them with &${prefix}:*`, `&${prefix}:*`, error);
  }
  return new PermissionError(`the Redis user may not use the app's keys (${error.message}); grant them with ~${prefix}:*`, `~${prefix}:*`, error);
}
