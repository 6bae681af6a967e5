/**
 * The app's Redis connection: what `createApp({ redis })` accepts, and how the app makes the
 * other connections it needs (BullMQ's blocking ones, the pub/sub subscriber) from it. It is one
 * Redis or a Redis Cluster. Anything that is not recognisably a Redis URL, ioredis options, a
 * cluster description or an ioredis client is refused: silently treating an unknown object as
 * options would connect to 127.0.0.1:6379 instead.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConnectionError, InvalidArgumentError, PermissionError } from './errors.js';
import type { Logger } from './logger.js';

/** A client of one Redis or of a Redis Cluster: every part of the runtime works with either. */
export type RedisClient = Redis | Cluster;

/**
 * A Redis Cluster to connect to: some of its nodes (the others are discovered) and ioredis's
 * cluster options. Credentials and TLS for every node go in `redisOptions`.
 *
 * @example
 * ```ts
 * createApp({ redis: { cluster: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'], redisOptions: { password } } });
 * ```
 */
export interface ClusterDescription extends ClusterOptions {
  /** Seed nodes: `redis://host:port` URLs or `{ host, port }`. */
  readonly cluster: readonly (string | { readonly host: string; readonly port: number })[];
}

/**
 * What `createApp({ redis })` accepts: a `redis://`/`rediss://` URL, a
 * `redis+cluster://host1:port1,host2:port2` / `rediss+cluster://…` URL, ioredis options, a
 * {@link ClusterDescription}, or an ioredis `Redis` or `Cluster` (which stays the caller's).
 */
export type RedisInput = string | RedisOptions | ClusterDescription | Redis | Cluster;

/** The app's connection, and whether the app owns it (and so closes it). */
export interface AppConnection {
  readonly client: RedisClient;
  readonly owned: boolean;
}

/** Milliseconds between attempts to reconnect to a Redis that is down. */
const RECONNECT_DELAY = 500;

/**
 * Retry budget of the clusters the app opens: a command redirected (MOVED, ASK), refused while its
 * slot migrates (TRYAGAIN) or while a master is replaced (CLUSTERDOWN) is tried again for several
 * seconds, instead of ioredis's default of under one second, so a reshard or a failover is waited
 * out rather than failing calls. A refused command was never executed, so retrying is safe.
 */
const CLUSTER_RETRIES: ClusterOptions = {
  maxRedirections: 100,
  retryDelayOnTryAgain: 100,
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  clusterRetryStrategy: () => RECONNECT_DELAY,
};

/**
 * Opens (or adopts) the app's connection; `given` was checked by {@link checkRedisInput}. A
 * connection the app opens reconnects every {@link RECONNECT_DELAY} ms, and a command sent while
 * Redis is down fails after about `unavailableTimeout` ms (unless the options say otherwise), so
 * `apply` and friends never wait for an outage without end, and never run late.
 */
export function openConnection(given: RedisInput | undefined, unavailableTimeout: number): AppConnection {
  checkRedisInput(given);
  if (isRedisClient(given)) return { client: given, owned: false };
  const bounded = {
    maxRetriesPerRequest: Math.max(1, Math.ceil(unavailableTimeout / RECONNECT_DELAY)),
    connectTimeout: Math.min(unavailableTimeout, 10_000),
  };
  if (given === undefined) return { client: new Redis({ retryStrategy: () => RECONNECT_DELAY, ...bounded }), owned: true };
  if (typeof given === 'string' && CLUSTER_URL.test(given)) given = parseClusterUrl(given);
  if (typeof given === 'string') return { client: new Redis(given, { retryStrategy: () => RECONNECT_DELAY, ...bounded }), owned: true };
  if (isClusterDescription(given)) {
    const { cluster: seeds, redisOptions, ...options } = given;
    const client = new Cluster([...seeds], { ...CLUSTER_RETRIES, ...options, redisOptions: { ...bounded, ...redisOptions } });
    return { client, owned: true };
  }
  return { client: new Redis({ retryStrategy: () => RECONNECT_DELAY, ...bounded, ...given }), owned: true };
}

/** Whether `client` talks to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/** One Redis command and its arguments, for {@link callEach}. */
export type RedisCall = readonly [command: string, ...args: (string | number)[]];

/**
 * Runs many independent commands and resolves to their replies in order: in one pipeline on one
 * server (one write, and Redis reads them together: a command sent alone costs it several times
 * more), one by one, at once, on a cluster, where their keys may live on different nodes.
 * Rejects with the first command's error.
 */
export async function callEach(client: RedisClient, calls: readonly RedisCall[]): Promise<unknown[]> {
  if (calls.length === 0) return [];
  if (isCluster(client)) return Promise.all(calls.map(([command, ...args]) => client.call(command, ...args)));
  // A pipeline takes each command by its method's name: lower case.
  const replies = (await client.pipeline(calls.map(([command, ...args]) => [command.toLowerCase(), ...args])).exec()) ?? [];
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/**
 * Whether `value` is an ioredis `Redis` or `Cluster` — this package's copy of ioredis, or another
 * one in the user's tree (where `instanceof` fails), recognised by its class name and methods.
 */
export function isRedisClient(value: unknown): value is RedisClient {
  if (value instanceof Redis || value instanceof Cluster) return true;
  if (typeof value !== 'object' || value === null) return false;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const methods = ['duplicate', 'defineCommand', 'pipeline', 'multi', 'quit', 'disconnect', 'on'] as const;
  return (
    (name === 'Redis' || name === 'Cluster') &&
    methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function') &&
    typeof (value as { status?: unknown }).status === 'string'
  );
}

function isClusterDescription(value: object): value is ClusterDescription {
  return 'cluster' in value;
}

/** Another connection with `client`'s settings, changed by `overrides`: a Cluster for a Cluster. */
export function duplicateClient(client: RedisClient, overrides: Partial<RedisOptions> = {}): RedisClient {
  if (!isCluster(client)) return client.duplicate(overrides);
  // Cluster.duplicate takes startup nodes first; these settings are those of each node's
  // connection, and the few that are the Cluster's own are given to it too.
  const own: Partial<ClusterOptions> = {};
  if (overrides.lazyConnect !== undefined) own.lazyConnect = overrides.lazyConnect;
  if (overrides.enableOfflineQueue !== undefined) own.enableOfflineQueue = overrides.enableOfflineQueue;
  if (overrides.enableReadyCheck !== undefined) own.enableReadyCheck = overrides.enableReadyCheck;
  const { retryStrategy: _ignored, enableOfflineQueue: _own, ...perNode } = overrides;
  return client.duplicate([], { ...own, redisOptions: { ...client.options.redisOptions, ...perNode } });
}

/**
 * A connection for SUBSCRIBE. On one Redis, a copy of `client`. On a cluster, a plain connection
 * to one of its nodes chosen at random: a PUBLISH reaches the subscribers of every node, and a
 * connection of our own says when it drops, so the subscriber can resubscribe (and tell waiters to
 * re-read what they missed) — ioredis's own cluster subscriber moves to another node silently. It
 * gives up on a node after a few attempts (it ends); the caller then opens one to another node.
 */
export function subscriberConnection(client: RedisClient, overrides: Partial<RedisOptions>): Redis {
  if (!isCluster(client)) return client.duplicate(overrides);
  const options: RedisOptions = { ...client.options.redisOptions, ...overrides, retryStrategy: (times) => (times > 3 ? null : 200) };
  const known = client.nodes('all');
  const node = known[Math.floor(Math.random() * known.length)];
  if (node !== undefined) return new Redis(node.options.port ?? 6379, node.options.host ?? '127.0.0.1', options);
  const seeds = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? [];
  const seed = seeds[Math.floor(Math.random() * seeds.length)];
  if (typeof seed === 'string') return new Redis(seed, options);
  if (typeof seed === 'number') return new Redis({ ...options, port: seed });
  return new Redis({ ...options, ...(seed as { host?: string; port?: number } | undefined) });
}

/**
 * Redis's answers for a command sent to a node that no longer serves its slot, or while the slot
 * or its master is changing. ioredis follows them for single commands, but not for a pipeline cut
 * in two by a failover or a migration (its first commands ran on the old node, the rest were
 * redirected): that pipeline fails with the raw redirection. A pipeline's scripts are loaded on
 * the node its slot map names, so one redirected (ASK) to the node importing the slot can fail
 * with NOSCRIPT there instead.
 */
const REDIRECTED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|NOSCRIPT)\b|Too many Cluster redirections/;

/** Attempts, and ms between them, of {@link retryRedirected}: about 6 s, longer than a failover with the defaults. */
const REDIRECT_ATTEMPTS = 30;
const REDIRECT_DELAY = 200;

/**
 * Runs `run` again while it fails with a cluster redirection (see {@link REDIRECTED}). Only for
 * idempotent work — adding jobs under their ids, creating a workflow — which a half-run pipeline
 * leaves half done.
 */
export async function retryRedirected<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= REDIRECT_ATTEMPTS || !(error instanceof Error) || !REDIRECTED.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, REDIRECT_DELAY));
    }
  }
}

/** `redis+cluster://` or `rediss+cluster://`. */
const CLUSTER_URL = /^rediss?\+cluster:\/\//;

/**
 * Reads `redis+cluster://[user[:password]@]host1:port1[,host2:port2…][/0]` (TLS:
 * `rediss+cluster://`) into a {@link ClusterDescription}; the credentials and TLS apply to every
 * node. Throws `InvalidArgumentError` saying what is wrong.
 */
export function parseClusterUrl(url: string): ClusterDescription {
  const fail = (why: string): never => {
    throw new InvalidArgumentError('redis', `${why} in the cluster URL ${JSON.stringify(redactUrl(url))}; expected redis+cluster://[user:password@]host1:port1,host2:port2`);
  };
  const match = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (match === null) return fail('a fragment, or a character out of place,');
  const [, scheme, auth, hostList = '', path = '', query = ''] = match;
  if (path !== '' && path !== '/' && path !== '/0') fail(`the database ${JSON.stringify(path.slice(1))} (a cluster has only database 0)`);
  if (query !== '' && query !== '?') fail('options after "?" (give them as createApp({ redis: { cluster: [...], ...options } }))');
  const seeds = hostList.split(',').map((hostPort) => {
    if (hostPort === '') return fail('an empty node address');
    let parsed: URL;
    try {
      parsed = new URL(`redis://${hostPort}`);
    } catch {
      return fail(`the node address ${JSON.stringify(hostPort)}`);
    }
    if (parsed.username !== '' || parsed.pathname !== '' || parsed.host !== hostPort.toLowerCase()) fail(`the node address ${JSON.stringify(hostPort)}`);
    const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
    return { host, port: parsed.port === '' ? 6379 : Number(parsed.port) };
  });
  const redisOptions: NonNullable<ClusterOptions['redisOptions']> = {};
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    const user = decodeURIComponent(colon === -1 ? auth : auth.slice(0, colon));
    if (colon !== -1) redisOptions.password = decodeURIComponent(auth.slice(colon + 1));
    if (user !== '') redisOptions.username = user;
  }
  if (scheme === 'rediss') redisOptions.tls = {};
  return { cluster: seeds, redisOptions };
}

/** The URL with its password replaced by `***`, for messages. */
function redactUrl(url: string): string {
  return url.replace(/^([^:]+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/**
 * Throws `InvalidArgumentError` unless `given` is a Redis URL, a cluster URL, ioredis options, a
 * cluster description or an ioredis client.
 */
export function checkRedisInput(given: unknown): asserts given is RedisInput | undefined {
  if (given === undefined || isRedisClient(given)) return;
  if (typeof given === 'string') {
    if (CLUSTER_URL.test(given)) {
      parseClusterUrl(given);
      return;
    }
    if (!/^rediss?:\/\//.test(given)) {
      throw new InvalidArgumentError(
        'redis',
        `expected a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL, got ${JSON.stringify(redactUrl(given).slice(0, 100))}`,
      );
    }
    return;
  }
  if (typeof given !== 'object' || given === null) {
    throw new InvalidArgumentError('redis', `expected a Redis URL, ioredis options or an ioredis client, got ${given === null ? 'null' : typeof given}`);
  }
  const proto: unknown = Object.getPrototypeOf(given);
  if (proto !== Object.prototype && proto !== null) {
    const kind = (given as { constructor?: { name?: unknown } }).constructor?.name;
    throw new InvalidArgumentError(
      'redis',
      `got an instance of ${typeof kind === 'string' && kind !== '' ? kind : 'an unknown class'}, which is neither an ioredis Redis nor an ioredis Cluster ` +
        '(a client of another library, such as node-redis, is not supported); pass a URL, ioredis options, { cluster: [...] } or an ioredis client',
    );
  }
  // Plain data that pretends to be a client would otherwise pass as options, and connect to 127.0.0.1:6379.
  const pretends = ['isCluster', 'duplicate', 'sendCommand', 'connector'].find((name) => name in given);
  if (pretends !== undefined) {
    throw new InvalidArgumentError('redis', `got a plain object with "${pretends}", which is neither ioredis options nor an ioredis client; pass a URL, ioredis options, { cluster: [...] } or an ioredis client`);
  }
  if (isClusterDescription(given)) {
    const seeds = (given as { cluster: unknown }).cluster;
    if (!Array.isArray(seeds) || seeds.length === 0) {
      throw new InvalidArgumentError('redis', 'expected `cluster` to list at least one node, as "redis://host:port" or { host, port }');
    }
    for (const seed of seeds as unknown[]) {
      const ok =
        (typeof seed === 'string' && /^rediss?:\/\//.test(seed)) ||
        (typeof seed === 'object' && seed !== null && typeof (seed as { port?: unknown }).port === 'number');
      if (!ok) throw new InvalidArgumentError('redis', `a cluster node must be "redis://host:port" or { host, port }, got ${JSON.stringify(seed)}`);
    }
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

/** `host:port` of a client (for a cluster, `cluster of <its seed nodes>`), without credentials. */
export function addressOf(client: RedisClient): string {
  if (isCluster(client)) return `the cluster of ${seedAddresses(client).join(',')}`;
  const { host, port, path } = client.options;
  return path !== undefined && path !== null && path !== '' ? path : `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

/**
 * The connection setting as a URL to show (the CLI's banner, its error lines), never with a
 * password: `redis://host:port/db`, `rediss://…`, `redis+socket://path`, or for a cluster
 * `redis+cluster://host1:port1,host2:port2` (its seed nodes).
 */
export function describeRedisInput(given: RedisInput | undefined): string | undefined {
  if (given === undefined) return undefined;
  if (typeof given === 'string') return given.replace(/^([a-z+]+:\/\/)[^@/]*@/, '$1').replace(/\/$/, '');
  if (isRedisClient(given) ? isCluster(given) : isClusterDescription(given)) {
    const seeds = isRedisClient(given) ? seedAddresses(given as Cluster) : seedAddressesOf((given as ClusterDescription).cluster);
    const tls = (isRedisClient(given) ? (given as Cluster).options.redisOptions : (given as ClusterDescription).redisOptions)?.tls;
    return `${tls === undefined ? 'redis' : 'rediss'}+cluster://${seeds.join(',')}`;
  }
  const { host, port, path, db, tls } = isRedisClient(given) ? (given as Redis).options : (given as RedisOptions);
  if (typeof path === 'string' && path !== '') return `redis+socket://${path}`;
  return `${tls === undefined ? 'redis' : 'rediss'}://${host ?? '127.0.0.1'}:${port ?? 6379}/${db ?? 0}`;
}

/** `host:port` of each seed node a cluster client was given. */
function seedAddresses(client: Cluster): string[] {
  return seedAddressesOf((client as unknown as { startupNodes?: readonly unknown[] }).startupNodes ?? []);
}

function seedAddressesOf(seeds: readonly unknown[]): string[] {
  return seeds.map((seed) =>
    typeof seed === 'string'
      ? seed.replace(/^[a-z]+:\/\/([^@/]*@)?/, '')
      : typeof seed === 'object' && seed !== null
        ? `${String((seed as { host?: unknown }).host ?? '127.0.0.1')}:${String((seed as { port?: unknown }).port ?? 6379)}`
        : String(seed),
  );
}

/** A wait of {@link ConnectionWatch.unavailableFor}: told once an outage has lasted its time. */
export interface UnavailableWait {
  /** Redis has been down for the time given: the wait fails with `error`. Must not throw. */
  unavailable(error: ConnectionError): void;
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
  /** Set once the current outage has lasted {@link boundCalls}'s limit; cleared when Redis is back. */
  private tooLong: ConnectionError | undefined;
  private tooLongTimer: NodeJS.Timeout | undefined;
  private readonly tooLongListeners = new Set<(error: ConnectionError) => void>();
  /** See {@link boundCalls}. */
  private callLimit: number | undefined;
  /** The pending waits of {@link unavailableFor}, each with its time, and the one timer that checks them all. */
  private readonly unavailableWaits = new Map<UnavailableWait, number>();
  private unavailableCheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly address: string,
    /** The app's key prefix, named in what a missing permission says to grant. */
    private readonly prefix: string,
    /** Where an outage is reported: once when it begins, once when it ends. */
    private readonly logger: Logger,
  ) {}

  /**
   * For a Redis Cluster, whose commands wait in its offline queue for as long as every node is
   * down (ioredis bounds no such wait): from now on {@link whenTooLong} tells calls once an outage
   * has lasted `ms`, so they fail with a `ConnectionError` as they do on one Redis.
   */
  boundCalls(ms: number): void {
    this.callLimit = ms;
  }

  /** Whether {@link boundCalls} was called: only then do calls need {@link whenTooLong}. */
  get bounds(): boolean {
    return this.callLimit !== undefined;
  }

  /**
   * Calls `fail` once the current (or next) outage has lasted the limit of {@link boundCalls} —
   * at once if it already has; the returned function stops listening. Never calls it without
   * {@link boundCalls}.
   */
  whenTooLong(fail: (error: ConnectionError) => void): () => void {
    if (this.tooLong !== undefined) {
      fail(this.tooLong);
      return () => {};
    }
    this.tooLongListeners.add(fail);
    return () => this.tooLongListeners.delete(fail);
  }

  private outageBegan(): void {
    const limit = this.callLimit;
    if (limit === undefined) return;
    clearTimeout(this.tooLongTimer);
    this.tooLongTimer = setTimeout(() => {
      const cause = this.lastError === undefined ? 'no answer' : describeCause(this.lastError);
      this.tooLong = this.fatal ?? new ConnectionError(this.address, `Redis has not answered for ${limit} ms (${cause}); check that it runs and is reachable from here`);
      for (const fail of this.tooLongListeners) fail(this.tooLong);
      this.tooLongListeners.clear();
    }, limit);
    this.tooLongTimer.unref();
  }

  private outageEnded(): void {
    clearTimeout(this.tooLongTimer);
    this.tooLong = undefined;
  }

  /**
   * Tells `wait` (its `unavailable`) once Redis has been unreachable for `ms` (checked a few times
   * a second), unless {@link stopUnavailable} comes first. For waits that depend on Redis coming
   * back. An object, not a promise or a callback: a producer may hold thousands of `get()`s, each
   * watching, and the wait itself is the one thing each holds.
   */
  unavailableFor(ms: number, wait: UnavailableWait): void {
    this.unavailableWaits.set(wait, ms);
    // One check for every wait (a producer may hold thousands of `get()`s), while any is pending.
    if (this.unavailableCheck === undefined) {
      this.unavailableCheck = setInterval(() => this.checkUnavailable(), 250);
      this.unavailableCheck.unref();
    }
  }

  /** Stops watching for `wait` ({@link unavailableFor}); calling it again is harmless. */
  stopUnavailable(wait: UnavailableWait): void {
    this.unavailableWaits.delete(wait);
    if (this.unavailableWaits.size > 0) return;
    clearInterval(this.unavailableCheck);
    this.unavailableCheck = undefined;
  }

  private checkUnavailable(): void {
    if (this.downSince === undefined) return;
    const down = Date.now() - this.downSince;
    for (const [wait, ms] of this.unavailableWaits) {
      if (down < ms) continue;
      const cause = this.lastError === undefined ? 'no answer' : describeCause(this.lastError);
      this.stopUnavailable(wait);
      wait.unavailable(this.fatal ?? new ConnectionError(this.address, `Redis has not answered for ${ms} ms (${cause}); check that it runs and is reachable from here`));
    }
  }

  /**
   * Starts following `client`: its errors say when an outage begins, its `ready` when it ends;
   * `stop` says whether the watch may disconnect it on a fatal error. The client's errors need no
   * other listener: they are reported here, once per outage.
   */
  follow(client: RedisClient, stop: boolean): void {
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
      this.outageBegan();
      this.logger.warn(`lost the connection to Redis at ${this.address} (${describeCause(error)}); retrying until it is back`);
    });
    client.on('ready', () => {
      if (this.downSince === undefined) return;
      this.outageEnded();
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
    // A cluster fails a call at once with the closed connection of the node it was sent to.
    if (this.callLimit !== undefined && isConnectionError(error)) {
      const cause = this.lastError === undefined ? (error as Error).message : describeCause(this.lastError);
      return new ConnectionError(this.address, `Redis did not answer (${cause}); check that it runs and is reachable from here`, error);
    }
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
    /Connection is closed|Stream isn't writeable|connect ECONNREFUSED|read ECONNRESET|Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready/.test(error.message)
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
