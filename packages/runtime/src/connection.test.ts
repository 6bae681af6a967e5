import { Cluster, Redis } from 'ioredis';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  checkRedisInput,
  ConnectionWatch,
  describeRedisInput,
  duplicateClient,
  isCluster,
  isRedisClient,
  openConnection,
  parseClusterUrl,
  retryRedirected,
  type RedisClient,
} from './connection.js';
import { InvalidArgumentError } from './errors.js';

describe('what createApp({ redis }) accepts', () => {
  it('reads redis+cluster:// URLs: every node, credentials for all of them, TLS for rediss', () => {
    expect(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001')).toEqual({
      cluster: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      redisOptions: {},
    });
    expect(parseClusterUrl('rediss+cluster://app:p%40ss@h1:7000,[::1]:7001/0')).toEqual({
      cluster: [
        { host: 'h1', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      redisOptions: { username: 'app', password: 'p@ss', tls: {} },
    });
    expect(parseClusterUrl('redis+cluster://:secret@h1')).toEqual({ cluster: [{ host: 'h1', port: 6379 }], redisOptions: { password: 'secret' } });
  });

  it('refuses a cluster URL it cannot read, saying what is wrong and hiding the password', () => {
    expect(() => parseClusterUrl('redis+cluster://h1:7000/3')).toThrow(/only database 0/);
    expect(() => parseClusterUrl('redis+cluster://h1:7000,,h2:7001')).toThrow(/empty node address/);
    expect(() => parseClusterUrl('redis+cluster://h1:7000?scaleReads=slave')).toThrow(/options after "\?"/);
    expect(() => parseClusterUrl('redis+cluster://h1:notaport')).toThrow(/node address "h1:notaport"/);
    expect(() => parseClusterUrl('redis+cluster://u:hunter2@h1:7000/9')).toThrow(/u:\*\*\*@/);
    expect(() => parseClusterUrl('redis+cluster://u:hunter2@h1:7000/9')).not.toThrow(/hunter2/);
  });

  it('refuses what is neither a URL, options, a cluster description nor an ioredis client', () => {
    class NodeRedisClient {
      readonly options = { url: 'redis://elsewhere' };
      sendCommand(): void {}
    }
    expect(() => checkRedisInput(new NodeRedisClient())).toThrow(InvalidArgumentError);
    expect(() => checkRedisInput(new NodeRedisClient())).toThrow(/NodeRedisClient, which is neither an ioredis Redis nor an ioredis Cluster/);
    expect(() => checkRedisInput({ isCluster: true })).toThrow(/plain object with "isCluster"/);
    expect(() => checkRedisInput({ cluster: [] })).toThrow(/at least one node/);
    expect(() => checkRedisInput({ cluster: ['h1:7000'] })).toThrow(/redis:\/\/host:port/);
    expect(() => checkRedisInput('h1:7000')).toThrow(/redis\+cluster:\/\//);
    expect(() => checkRedisInput(42)).toThrow(/got number/);
    expect(() => checkRedisInput({ cluster: ['redis://h1:7000', { host: 'h2', port: 7000 }], redisOptions: { password: 'x' } })).not.toThrow();
    expect(() => checkRedisInput({ host: 'h1', port: 7000 })).not.toThrow();
  });

  it('recognises an ioredis client from another copy of ioredis by its class name and methods', () => {
    // What a second copy's instance looks like from here: same shape, another class object.
    class Redis {
      status = 'wait';
      duplicate(): void {}
      defineCommand(): void {}
      pipeline(): void {}
      multi(): void {}
      quit(): void {}
      disconnect(): void {}
      on(): void {}
    }
    class Cluster extends Redis {
      readonly isCluster = true;
    }
    expect(isRedisClient(new Redis())).toBe(true);
    expect(isRedisClient(new Cluster())).toBe(true);
    expect(() => checkRedisInput(new Cluster())).not.toThrow();
    const foreign = new Cluster();
    expect(openConnection(foreign as never, 1_000)).toEqual({ client: foreign, owned: false });
  });

  it('adopts a Cluster as it is, and opens a Cluster for a description or a cluster URL', () => {
    const given = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    expect(openConnection(given, 1_000)).toEqual({ client: given, owned: false });
    const opened = openConnection('redis+cluster://127.0.0.1:1,127.0.0.1:2', 1_000);
    try {
      expect(opened.owned).toBe(true);
      expect(isCluster(opened.client)).toBe(true);
      const cluster = opened.client as Cluster;
      expect(cluster.options.maxRedirections).toBe(100);
      expect(cluster.options.redisOptions?.maxRetriesPerRequest).toBe(2);
      // A duplicate is a Cluster too, with the overrides on each node's connection.
      const copy = duplicateClient(cluster, { maxRetriesPerRequest: null, lazyConnect: true });
      expect(isCluster(copy)).toBe(true);
      expect((copy as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
      expect((copy as Cluster).options.lazyConnect).toBe(true);
      copy.disconnect();
    } finally {
      opened.client.disconnect();
    }
    const single = openConnection({ host: '127.0.0.1', port: 1, lazyConnect: true }, 1_000);
    expect(single.client).toBeInstanceOf(Redis);
    single.client.disconnect();
  });

  it('sends idempotent work again after a cluster redirection, and nothing else', async () => {
    let calls = 0;
    const moved = await retryRedirected(async () => {
      calls++;
      if (calls === 1) throw new Error('MOVED 5718 127.0.0.1:7001');
      if (calls === 2) throw new Error('Too many Cluster redirections. Last error: TRYAGAIN Multiple keys request during rehashing of slot');
      return 'added';
    });
    expect([moved, calls]).toEqual(['added', 3]);
    let other = 0;
    await expect(
      retryRedirected(async () => {
        other++;
        throw new Error('NOPERM this user has no permissions');
      }),
    ).rejects.toThrow(/NOPERM/);
    expect(other).toBe(1);
  });
});

describe('describeRedisInput (what the CLI shows as its broker)', () => {
  it('shows each kind of setting as a URL without its password', () => {
    expect(describeRedisInput(undefined)).toBeUndefined();
    expect(describeRedisInput('redis://:s3cret@10.0.0.1:6380/2')).toBe('redis://10.0.0.1:6380/2');
    expect(describeRedisInput('rediss+cluster://app:s3cret@h1:7000,h2:7001')).toBe('rediss+cluster://h1:7000,h2:7001');
    expect(describeRedisInput({ host: 'h', port: 7000, password: 's3cret' })).toBe('redis://h:7000/0');
    expect(describeRedisInput({ path: '/run/redis.sock' })).toBe('redis+socket:///run/redis.sock');
    expect(describeRedisInput({ cluster: ['redis://:s3cret@h1:7000', { host: 'h2', port: 7001 }], redisOptions: { tls: {} } })).toBe(
      'rediss+cluster://h1:7000,h2:7001',
    );
  });

  it('shows a client by where it connects, a cluster by its seed nodes', () => {
    const redis = new Redis({ host: 'h', port: 7000, password: 's3cret', lazyConnect: true });
    const cluster = new Cluster([{ host: 'h1', port: 7000 }], { lazyConnect: true });
    try {
      expect(describeRedisInput(redis)).toBe('redis://h:7000/0');
      expect(describeRedisInput(cluster)).toBe('redis+cluster://h1:7000');
    } finally {
      redis.disconnect();
      cluster.disconnect();
    }
  });
});

describe('ConnectionWatch.unavailableFor (what a waiting get() gives up on)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

  it('tells every pending wait once an outage has lasted its time, with one timer for them all', async () => {
    vi.useFakeTimers();
    const watch = new ConnectionWatch('redis://127.0.0.1:1', 'app', quiet);
    const client = new EventEmitter();
    watch.follow(client as unknown as RedisClient, false);
    const timers = vi.getTimerCount();
    const settled: string[] = [];
    const errors: Error[] = [];
    watch.unavailableFor(1_000, {
      unavailable: (error) => {
        settled.push('short');
        errors.push(error);
      },
    });
    watch.unavailableFor(3_000, { unavailable: () => settled.push('long') });
    const cancelled = { unavailable: () => settled.push('cancelled') };
    watch.unavailableFor(1_000, cancelled);
    expect(vi.getTimerCount()).toBe(timers + 1);
    watch.stopUnavailable(cancelled);
    client.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await vi.advanceTimersByTimeAsync(1_250);
    expect(settled).toEqual(['short']);
    expect(errors[0]).toMatchObject({ name: 'ConnectionError', message: expect.stringMatching(/has not answered for 1000 ms/) });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(settled).toEqual(['short', 'long']);
    // Nothing pending: the timer is gone.
    expect(vi.getTimerCount()).toBe(timers);
  });

  it('tells nothing while Redis answers, and starts counting when an outage begins', async () => {
    vi.useFakeTimers();
    const watch = new ConnectionWatch('redis://127.0.0.1:1', 'app', quiet);
    const client = new EventEmitter();
    watch.follow(client as unknown as RedisClient, false);
    let told = false;
    const wait = { unavailable: () => (told = true) };
    watch.unavailableFor(1_000, wait);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(told).toBe(false);
    client.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await vi.advanceTimersByTimeAsync(500);
    client.emit('ready'); // back before the limit
    await vi.advanceTimersByTimeAsync(5_000);
    expect(told).toBe(false);
    watch.stopUnavailable(wait);
  });
});
