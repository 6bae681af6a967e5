/**
 * The app's Redis connection: what `createApp({ redis })` accepts, and how the app makes the
 * other connections it needs (BullMQ's blocking ones, the pub/sub subscriber) from it. Anything
 * that is not recognisably a Redis URL, ioredis options or an ioredis client is refused: silently
 * treating an unknown object as options would connect to 127.0.0.1:6379 instead.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { InvalidArgumentError } from './errors.js';

/** What `createApp({ redis })` accepts. */
export type RedisInput = string | RedisOptions | Redis;

/** The app's connection, and whether the app owns it (and so closes it). */
export interface AppConnection {
  readonly client: Redis;
  readonly owned: boolean;
}

/** Opens (or adopts) the app's connection. Throws `InvalidArgumentError` for anything else. */
export function openConnection(given: RedisInput | undefined): AppConnection {
  if (given === undefined) return { client: new Redis(), owned: true };
  if (typeof given === 'string') {
    if (!/^rediss?:\/\//.test(given)) {
      throw new InvalidArgumentError('redis', `expected a redis:// or rediss:// URL, got ${JSON.stringify(given.slice(0, 100))}`);
    }
    return { client: new Redis(given), owned: true };
  }
  if (given instanceof Redis) return { client: given, owned: false };
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
  return { client: new Redis(given), owned: true };
}
