/**
 * The private Redis Cluster that cluster tests and benchmarks run on: it must come up serving every
 * slot, do what its helpers promise (failover, reshard, a slot held half-moved) against real
 * servers, and leave no process, port or directory behind.
 */
import { existsSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_SLOTS, startPrivateCluster, type PrivateCluster, type PrivateClusterOptions } from './private-cluster.js';

const started: PrivateCluster[] = [];
const clients: Cluster[] = [];

async function cluster(options: PrivateClusterOptions = {}): Promise<PrivateCluster> {
  const running = await startPrivateCluster(options);
  started.push(running);
  return running;
}

function client(running: PrivateCluster): Cluster {
  const redis = new Cluster([...running.seeds]);
  clients.push(redis);
  return redis;
}

afterEach(async () => {
  for (const redis of clients.splice(0)) redis.disconnect();
  await Promise.all(started.splice(0).map((running) => running.stop()));
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Writes `count` keys spread over every slot range and returns their names. */
async function writeKeys(redis: Cluster, prefix: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, k) => `${prefix}:${k}`);
  await Promise.all(keys.map((key) => redis.set(key, key)));
  return keys;
}

async function readAll(redis: Cluster, keys: readonly string[]): Promise<(string | null)[]> {
  return Promise.all(keys.map((key) => redis.get(key)));
}

describe('startPrivateCluster', () => {
  it('starts three masters that serve every slot, and stop() leaves no server, port or directory behind', async () => {
    const begun = Date.now();
    const running = await cluster();
    const masters = await running.masters();
    expect(masters).toHaveLength(3);
    expect(masters.reduce((sum, master) => sum + master.slotCount, 0)).toBe(CLUSTER_SLOTS);
    expect(running.pids.every(alive)).toBe(true);
    expect(existsSync(running.dir)).toBe(true);

    const redis = client(running);
    const keys = await writeKeys(redis, 'spread', 300);
    expect(await readAll(redis, keys)).toEqual(keys);
    const counts = await running.countKeys('spread:*');
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(300);
    for (const master of masters) expect(counts.get(master.port)).toBeGreaterThan(0);

    redis.disconnect();
    await running.stop();
    expect(running.pids.some(alive)).toBe(false);
    expect(existsSync(running.dir)).toBe(false);
    for (const { port } of running.servers) expect(await listening(port)).toBe(false);
    expect(Date.now() - begun).toBeLessThan(15_000);
    await running.stop(); // a second stop is harmless
  });

  it('names the master that holds a key, by the key hash tag', async () => {
    const running = await cluster();
    const slot = await running.slotOf('{celeriac:q:default}:wait');
    expect(await running.slotOf('celeriac:q:{celeriac:q:default}:meta')).toBe(slot);
    const owner = await running.masterOf(slot);
    expect(owner.slots.some(([from, to]) => slot >= from && slot <= to)).toBe(true);
    expect(await running.masterOf('{celeriac:q:default}:wait')).toEqual(owner);
  });

  it('promotes a replica with failover(), and a cluster client keeps reading and writing', async () => {
    const running = await cluster({ replicas: 1 });
    const redis = client(running);
    const keys = await writeKeys(redis, 'before', 200);
    const [first] = await running.masters();
    const replica = first!.replicas[0]!;

    const failover = await running.failover(first!.port);
    expect(failover).toMatchObject({ promoted: replica, demoted: first!.port });
    const promoted = (await running.masters()).find((master) => master.port === replica);
    expect(promoted?.slots).toEqual(first!.slots);
    expect(promoted?.replicas).toEqual([first!.port]);
    // A coordinated failover loses no acknowledged write.
    expect(await readAll(redis, keys)).toEqual(keys);
    const after = await writeKeys(redis, 'after', 200);
    expect(await readAll(redis, after)).toEqual(after);
    expect((await running.countKeys('after:*')).get(replica)).toBeGreaterThan(0);
  });

  it('reshard() moves slots and their keys from one master to another', async () => {
    const running = await cluster();
    const redis = client(running);
    const keys = await writeKeys(redis, 'moving', 600);
    const [from, to] = await running.masters();
    const before = await running.countKeys('moving:*');

    await running.reshard({ from: from!.port, to: to!.port, slots: 300 });
    const masters = await running.masters();
    expect(masters.find((master) => master.port === from!.port)?.slotCount).toBe(from!.slotCount - 300);
    expect(masters.find((master) => master.port === to!.port)?.slotCount).toBe(to!.slotCount + 300);
    const after = await running.countKeys('moving:*');
    const moved = before.get(from!.port)! - after.get(from!.port)!;
    expect(moved).toBeGreaterThan(0);
    expect(after.get(to!.port)).toBe(before.get(to!.port)! + moved);
    expect(await readAll(redis, keys)).toEqual(keys);
  });

  it('beginSlotMigration() holds a slot half-moved: clients follow ASK, and finish() hands the slot over', async () => {
    const running = await cluster();
    const redis = client(running);
    const keys = Array.from({ length: 20 }, (_, k) => `{half}:${k}`);
    await Promise.all(keys.map((key) => redis.set(key, key)));
    const slot = await running.slotOf('{half}');
    const owner = await running.masterOf(slot);
    const target = (await running.masters()).find((master) => master.port !== owner.port)!;

    const migration = await running.beginSlotMigration(slot, target.port);
    expect(await migration.moveKeys(8)).toBe(8);
    const counts = await running.countKeys('{half}:*');
    expect([counts.get(owner.port), counts.get(target.port)]).toEqual([12, 8]);
    // Keys already moved are answered by the target after an ASK redirection; new keys of the slot go there too.
    expect(await readAll(redis, keys)).toEqual(keys);
    await redis.set('{half}:new', 'new');
    expect((await running.countKeys('{half}:new')).get(target.port)).toBe(1);
    // The owner refuses a command over keys split between the two nodes until the slot has moved.
    const direct = new Redis(owner.port, '127.0.0.1');
    try {
      const still = (await direct.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
      const moved = keys.filter((key) => !still.includes(key));
      expect([still.length, moved.length]).toEqual([12, 8]);
      await expect(direct.mget(still[0]!, moved[0]!)).rejects.toThrow(/^TRYAGAIN/);
      await expect(direct.get(moved[0]!)).rejects.toThrow(`ASK ${slot} 127.0.0.1:${target.port}`);
    } finally {
      direct.disconnect();
    }

    await migration.finish();
    expect((await running.masterOf(slot)).port).toBe(target.port);
    expect((await running.countKeys('{half}:*')).get(target.port)).toBe(21);
    expect(await redis.mget(keys[0]!, keys[19]!)).toEqual([keys[0], keys[19]]);
  });

  it('starts two clusters at once on a narrow port range without sharing a port', async () => {
    const first = 10_000 + Math.floor(Math.random() * 12_000);
    const portRange = [first, first + 11] as const;
    const [a, b] = await Promise.all([cluster({ portRange }), cluster({ portRange })]);
    const ports = [...a!.servers, ...b!.servers].map(({ port }) => port);
    expect(new Set(ports).size).toBe(6);
    for (const port of ports) expect(port >= first && port <= first + 11).toBe(true);
    await Promise.all([a!.settled(), b!.settled()]);
  });

  it('moves a node to other ports when another process takes its port before the server binds it', async () => {
    const taken: Server[] = [];
    const offered: number[] = [];
    try {
      const running = await cluster({
        beforeStart: async (port) => {
          offered.push(port);
          // Take the first node's port, then its replacement's bus port: both races end in a retry.
          if (offered.length === 1) taken.push(await listen(port));
          if (offered.length === 4) taken.push(await listen(port + 10_000));
        },
      });
      expect(offered).toHaveLength(5);
      const ports = running.servers.map(({ port }) => port);
      expect(ports).not.toContain(offered[0]);
      expect(ports).not.toContain(offered[3]);
      expect((await running.masters()).reduce((sum, master) => sum + master.slotCount, 0)).toBe(CLUSTER_SLOTS);
    } finally {
      await Promise.all(taken.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('leaves no server behind when one node fails while the others are still starting', async () => {
    // The failing node waits until the first node listens, so the first is mid-start when the
    // failure stops the cluster; a regression shows in most rounds, so run a few.
    for (let round = 0; round < 3; round++) {
      const offered: number[] = [];
      await expect(
        startPrivateCluster({
          beforeStart: async (port) => {
            offered.push(port);
            if (offered.length !== 2) return;
            while (!(await listening(offered[0]!))) await new Promise((resolve) => setTimeout(resolve, 1));
            throw new Error('this node cannot start');
          },
        }),
      ).rejects.toThrow('this node cannot start');
      expect(offered).toHaveLength(3);
      // A node whose start was under way must not come up afterwards.
      for (let check = 0; check < 6; check++) {
        for (const port of offered) expect(await listening(port)).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });

  it('gives back the ports it held when the range has too few free ports for every node', async () => {
    let port = 0;
    while (port === 0) {
      const candidate = 10_000 + Math.floor(Math.random() * 12_000);
      const held = await Promise.allSettled([listen(candidate), listen(candidate + 10_000)]);
      await Promise.all(held.map((h) => (h.status === 'fulfilled' ? new Promise((resolve) => h.value.close(resolve)) : undefined)));
      if (held.every((h) => h.status === 'fulfilled')) port = candidate;
    }
    await expect(startPrivateCluster({ portRange: [port, port] })).rejects.toThrow(`no free port pair (port and port + 10000) found in ${port}-${port}`);
    // The one pair it could take for the first node is free again.
    const servers = await Promise.all([listen(port), listen(port + 10_000)]);
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('refuses options it cannot honour', async () => {
    await expect(startPrivateCluster({ masters: 2 })).rejects.toThrow(/masters: expected a whole number >= 3/);
    await expect(startPrivateCluster({ replicas: -1 })).rejects.toThrow(/replicas/);
    await expect(startPrivateCluster({ portRange: [60_000, 60_010] })).rejects.toThrow(/portRange/);
  });
});
