/**
 * Starts a throwaway Redis Cluster on free loopback ports, for tests and benchmarks that must run on
 * a cluster without depending on (or disturbing) one someone else runs: N masters, optionally R
 * replicas each, joined with `redis-cli --cluster create`. Nothing is persisted to disk; `stop()`
 * kills every server it started, by pid, and removes their directories.
 *
 * Besides the seed addresses it gives the helpers cluster tests need: the masters and their slots,
 * the master a key lives on, keys per master, a manual failover, a reshard through `redis-cli`, and
 * a slot migration driven step by step (to hold a slot half-moved while work runs).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Redis } from 'ioredis';
import { RedisServerMissingError } from './private-redis.js';

/** Hash slots of every Redis Cluster. */
export const CLUSTER_SLOTS = 16_384;

/**
 * A node's cluster bus listens on its port + 10 000 (Redis's fixed offset; `cluster-port`, which
 * sets it apart, exists only from Redis 7.0, and the project supports 6.2).
 */
const BUS_PORT_OFFSET = 10_000;

const HOST = '127.0.0.1';

/** Options of {@link startPrivateCluster}. */
export interface PrivateClusterOptions {
  /** Masters holding the slots. Default 3, the fewest `redis-cli --cluster create` accepts. */
  readonly masters?: number;
  /** Replicas per master; a failover needs at least one. Default 0. */
  readonly replicas?: number;
  /**
   * `cluster-node-timeout` in ms: how long a node may not answer before the others flag it as
   * failing (and, for a master, promote one of its replicas). Default 2 000: small enough that a
   * killed master is replaced in about 3 s, large enough that a node briefly starved of CPU on a
   * busy 2-core machine is not failed over. Redis's default is 15 000.
   */
  readonly nodeTimeoutMs?: number;
  /**
   * Ports to pick each node's port from (its bus port is 10 000 above). Default 10 000–22 767:
   * below Linux's ephemeral range (32 768+), so no outgoing connection can take a port or bus port
   * between the check that it is free and the server binding it.
   */
  readonly portRange?: readonly [first: number, last: number];
  /** How long starting, and waiting for the cluster to agree after a change, may take. Default 30 000 ms. */
  readonly timeoutMs?: number;
  /**
   * Called with a node's port after it was found free and released, just before its server starts
   * on it: the window in which another process can take it. Tests use it to take the port and see
   * the node move to another one.
   */
  readonly beforeStart?: (port: number) => void | Promise<void>;
}

/** One `redis-server` this cluster started. */
export interface ClusterServer {
  readonly port: number;
  readonly pid: number;
  readonly url: string;
}

/** A slot range, both ends included. */
export type SlotRange = readonly [first: number, last: number];

/** A master as the cluster sees it now. */
export interface ClusterMaster {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  /** Its slot ranges, in order. */
  readonly slots: readonly SlotRange[];
  readonly slotCount: number;
  /** Ports of its replicas. */
  readonly replicas: readonly number[];
}

/** Outcome of {@link PrivateCluster.failover}. */
export interface Failover {
  /** Port of the replica that is now the master. */
  readonly promoted: number;
  /** Port of the former master, now its replica. */
  readonly demoted: number;
  /** From sending `CLUSTER FAILOVER` until every node agreed on the new master. */
  readonly ms: number;
}

/**
 * A slot being moved by hand (see {@link PrivateCluster.beginSlotMigration}): while it lasts, the
 * slot is MIGRATING on its owner and IMPORTING on the target, so clients get ASK for the keys
 * already moved and TRYAGAIN for multi-key commands whose keys are split between the two.
 */
export interface SlotMigration {
  readonly slot: number;
  /** Ports of the slot's owner and of the master it moves to. */
  readonly from: number;
  readonly to: number;
  /** Moves up to `count` keys of the slot (default 100) to the target; resolves to how many moved. */
  moveKeys(count?: number): Promise<number>;
  /** Moves the remaining keys, assigns the slot to the target, and waits until every node agrees. */
  finish(): Promise<void>;
}

/** A running private cluster; see {@link startPrivateCluster}. */
export interface PrivateCluster {
  /** Every server started, masters first as they were created (roles change with failovers). */
  readonly servers: readonly ClusterServer[];
  /** Seed nodes for ioredis: `new Cluster(cluster.seeds)`. */
  readonly seeds: readonly { readonly host: string; readonly port: number }[];
  readonly urls: readonly string[];
  readonly pids: readonly number[];
  /** The temporary directory holding every server's `nodes.conf`; removed by `stop()`. */
  readonly dir: string;
  /** Masters and their slots and replicas, ordered by first slot. */
  masters(): Promise<ClusterMaster[]>;
  /** The hash slot of a key (`CLUSTER KEYSLOT`). */
  slotOf(key: string): Promise<number>;
  /** The master serving a key, or a slot given as a number. */
  masterOf(keyOrSlot: string | number): Promise<ClusterMaster>;
  /** Keys on each master (matching a glob pattern when given), by master port. */
  countKeys(match?: string): Promise<Map<number, number>>;
  /**
   * Moves `slots` slots from one master to another with `redis-cli --cluster reshard` (keys move
   * with MIGRATE while clients keep working), then waits until every node agrees.
   */
  reshard(options: { readonly from: number; readonly to: number; readonly slots: number }): Promise<void>;
  /** Starts moving one slot to the master on port `to`, leaving it half-moved until `finish()`. */
  beginSlotMigration(slot: number, to: number): Promise<SlotMigration>;
  /**
   * Promotes a replica of the master on `masterPort` with `CLUSTER FAILOVER` (coordinated with the
   * master, so no acknowledged write is lost; `force` skips that handshake) and waits until every
   * node agrees.
   */
  failover(masterPort: number, options?: { readonly mode?: 'default' | 'force' | 'takeover' }): Promise<Failover>;
  /** Waits until every node reports the cluster ok, all slots served, no slot open, replicas in sync, and they agree. */
  settled(): Promise<void>;
  /** Deletes every key on every master. */
  flushAll(): Promise<void>;
  /** Kills every server by pid and removes their directories. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when no `redis-cli` binary is on PATH; the message says how to get one. */
export class RedisCliMissingError extends Error {
  constructor() {
    super(
      'redis-cli was not found on PATH; it creates the cluster. Install Redis (Debian/Ubuntu: ' +
        '`sudo apt-get install -y redis-server`, which brings redis-tools; macOS: `brew install redis`).',
    );
    this.name = 'RedisCliMissingError';
  }
}

/** Thrown when the cluster could not be started or did not settle; the message carries what the servers said. */
export class ClusterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterError';
  }
}

/** One line of `CLUSTER NODES`, as far as these helpers need it. */
interface NodeLine {
  readonly id: string;
  readonly port: number;
  readonly flags: readonly string[];
  readonly master: boolean;
  /** The id of its master, for a replica. */
  readonly masterId: string | null;
  readonly slots: SlotRange[];
  /** A `[slot->-id]` / `[slot-<-id]` entry: a slot being migrated or imported. */
  readonly openSlots: boolean;
  readonly connected: boolean;
}

/** Parses `CLUSTER NODES` (`<id> <ip:port@bus[,host]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`). */
function parseNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , link = '', ...slots] = line.trim().split(' ');
      const port = Number(address.slice(address.lastIndexOf(':') + 1).split('@')[0]);
      const flagList = flags.split(',');
      const ranges: SlotRange[] = [];
      let openSlots = false;
      for (const slot of slots) {
        if (slot.startsWith('[')) {
          openSlots = true;
          continue;
        }
        const [first, last = first] = slot.split('-').map(Number) as [number, number?];
        ranges.push([first, last]);
      }
      return {
        id,
        port,
        flags: flagList,
        master: flagList.includes('master'),
        masterId: master === '-' ? null : master,
        slots: ranges,
        openSlots,
        connected: link === 'connected',
      };
    });
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Listens on `port` of the loopback interface, or resolves to null if that port is taken. */
function tryListen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: HOST, exclusive: true }, () => resolve(server));
  });
}

const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/**
 * Finds a port whose bus port (+10 000) is free too, skipping `avoid`. The ports are held until
 * `release()` so that one call cannot hand out what another is about to use; another process may
 * still bind them before the server does, which {@link startServer} detects and retries.
 */
async function reservePortPair(range: readonly [number, number], avoid: ReadonlySet<number>): Promise<{ port: number; release(): Promise<void> }> {
  const [first, last] = range;
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = first + Math.floor(Math.random() * (last - first + 1));
    if (avoid.has(port) || avoid.has(port + BUS_PORT_OFFSET)) continue;
    const main = await tryListen(port);
    if (main === null) continue;
    const bus = await tryListen(port + BUS_PORT_OFFSET);
    if (bus === null) {
      await closeServer(main);
      continue;
    }
    return { port, release: async () => void (await Promise.all([closeServer(main), closeServer(bus)])) };
  }
  throw new ClusterError(`no free port pair (port and port + ${BUS_PORT_OFFSET}) found in ${first}-${last}`);
}

/** A started server and the last output it wrote (for error messages). */
interface Running {
  readonly port: number;
  readonly child: ChildProcess;
  readonly dir: string;
  output(): string;
}

/** What became of one attempt to start a server. */
type Started = { readonly ok: true; readonly running: Running } | { readonly ok: false; readonly portTaken: boolean; readonly error: Error };

function spawnServer(port: number, dir: string, nodeTimeoutMs: number, timeoutMs: number): Promise<Started> {
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port', String(port), '--bind', HOST,
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(nodeTimeoutMs),
      '--save', '', '--appendonly', 'no', '--dir', dir,
      '--maxmemory-policy', 'noeviction',
      // A replica's first sync otherwise waits 5 s for more replicas to share it.
      '--repl-diskless-sync-delay', '0',
      '--loglevel', 'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  const record = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  const running: Running = { port, child, dir, output: () => tail };
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle({ ok: false, portTaken: false, error: new ClusterError(`redis-server on port ${port} did not start in ${timeoutMs} ms:\n${tail}`) });
    }, timeoutMs);
    const onData = (): void => {
      if (tail.includes('Ready to accept connections')) settle({ ok: true, running });
    };
    // 'close', not 'exit': only once its output streams have ended is the reason it gave complete.
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void =>
      settle({
        ok: false,
        portTaken: /address already in use/i.test(tail),
        error: new ClusterError(`redis-server on port ${port} exited (${signal ?? `code ${code}`}):\n${tail}`),
      });
    const onError = (error: NodeJS.ErrnoException): void =>
      settle({ ok: false, portTaken: false, error: error.code === 'ENOENT' ? new RedisServerMissingError() : error });
    function settle(started: Started): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('close', onClose);
      child.off('error', onError);
      resolve(started);
    }
    child.stdout?.on('data', onData);
    child.once('close', onClose);
    child.once('error', onError);
  });
}

/** Runs redis-cli; rejects with its output when it fails. */
function redisCli(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      // redis-cli colours its --cluster output; the escapes only clutter error messages.
      const output = stripVTControlCharacters(`${stdout}${stderr}`);
      if (error === null) return resolve(output);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new RedisCliMissingError());
      reject(new ClusterError(`redis-cli ${args.join(' ')} failed: ${error.message}\n${output}`, { cause: error }));
    });
  });
}

/**
 * Starts a private Redis Cluster on loopback ports and waits until it serves every slot. Rejects
 * with `RedisServerMissingError` / `RedisCliMissingError` when Redis is not installed, and kills
 * whatever it started if anything fails.
 *
 * @example
 * ```ts
 * const cluster = await startPrivateCluster({ masters: 3, replicas: 1 });
 * const redis = new Cluster([...cluster.seeds]);
 * // …
 * redis.disconnect();
 * await cluster.stop();
 * ```
 */
export async function startPrivateCluster(options: PrivateClusterOptions = {}): Promise<PrivateCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2_000;
  const range = options.portRange ?? [10_000, 22_767];
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(masters) || masters < 3) throw new RangeError(`masters: expected a whole number >= 3 (redis-cli needs three), got ${masters}`);
  if (!Number.isInteger(replicas) || replicas < 0) throw new RangeError(`replicas: expected a whole number >= 0, got ${replicas}`);
  if (!Number.isInteger(nodeTimeoutMs) || nodeTimeoutMs < 100) throw new RangeError(`nodeTimeoutMs: expected a whole number >= 100, got ${nodeTimeoutMs}`);
  const [first, last] = range;
  if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 1024 && first <= last && last + BUS_PORT_OFFSET <= 65_535)) {
    throw new RangeError(`portRange: expected whole numbers 1024 <= first <= last <= ${65_535 - BUS_PORT_OFFSET}, got ${first}-${last}`);
  }

  const total = masters * (1 + replicas);
  const root = mkdtempSync(join(tmpdir(), 'celeriac-cluster-'));
  const running: Running[] = [];
  const killAll = (): void => {
    for (const { child } of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // A test runner that exits without calling stop() must not leave servers behind.
  process.once('exit', killAll);

  const admins = new Map<number, Redis>();
  const admin = (port: number): Redis => {
    let client = admins.get(port);
    if (client === undefined || client.status === 'end') {
      client = new Redis({ host: HOST, port, maxRetriesPerRequest: 2, retryStrategy: (times) => (times > 20 ? null : 50) });
      client.on('error', () => {}); // failures reach the caller through the command that hit them
      admins.set(port, client);
    }
    return client;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', killAll);
      for (const client of admins.values()) client.disconnect();
      // SIGKILL: nothing is persisted, and a master given SIGTERM may wait for its replicas first.
      await Promise.all(
        running.map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      rmSync(root, { recursive: true, force: true });
    })());

  try {
    // Reserve every node's ports before starting any, so the nodes never pick the same port.
    const inUse = new Set<number>();
    const reserved: { port: number; release(): Promise<void> }[] = [];
    try {
      for (let k = 0; k < total; k++) {
        const pair = await reservePortPair(range, inUse);
        inUse.add(pair.port).add(pair.port + BUS_PORT_OFFSET);
        reserved.push(pair);
      }
    } finally {
      await Promise.all(reserved.map((pair) => pair.release()));
    }
    // Settle every start before acting on a failure: a node still starting when stop() ran would
    // be left behind.
    const attempts = await Promise.allSettled(
      reserved.map(async ({ port: first }, k) => {
        let port = first;
        for (let attempt = 1; ; attempt++) {
          await options.beforeStart?.(port);
          const outcome = await spawnServer(port, join(root, `node-${k}-${port}`), nodeTimeoutMs, timeoutMs);
          if (outcome.ok) {
            running.push(outcome.running);
            return outcome.running;
          }
          if (!outcome.portTaken || attempt >= 10) throw outcome.error;
          // Another process bound the port (or its bus port) since it was checked: pick another.
          const pair = await reservePortPair(range, inUse);
          inUse.add(pair.port).add(pair.port + BUS_PORT_OFFSET);
          await pair.release();
          port = pair.port;
        }
      }),
    );
    const started: Running[] = [];
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') throw attempt.reason; // the catch below stops the others
      started.push(attempt.value);
    }
    const servers: ClusterServer[] = started.map(({ port, child }) => ({ port, pid: child.pid ?? -1, url: `redis://${HOST}:${port}` }));

    await redisCli(
      ['--cluster', 'create', ...servers.map(({ port }) => `${HOST}:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      timeoutMs,
    );

    const alive = (): Running[] => running.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    const anyPort = (): number => {
      const node = alive()[0];
      if (node === undefined) throw new ClusterError('every server of the private cluster has exited');
      return node.port;
    };
    const nodes = async (port = anyPort()): Promise<NodeLine[]> => parseNodes(String(await admin(port).call('CLUSTER', 'NODES')));

    /** Why the cluster has not settled yet, or null once it has. */
    const unsettled = async (): Promise<string | null> => {
      const views: string[] = [];
      for (const { port, output } of running) {
        if (!alive().some((node) => node.port === port)) return `the server on port ${port} exited:\n${output()}`;
        const info = parseInfo(String(await admin(port).call('CLUSTER', 'INFO')));
        if (info.get('cluster_state') !== 'ok') return `node ${port}: cluster_state ${info.get('cluster_state')}`;
        if (info.get('cluster_slots_ok') !== String(CLUSTER_SLOTS)) return `node ${port}: ${info.get('cluster_slots_ok')} slots ok`;
        if (info.get('cluster_known_nodes') !== String(total)) return `node ${port}: knows ${info.get('cluster_known_nodes')} of ${total} nodes`;
        const view = await nodes(port);
        const odd = view.find((node) => node.openSlots || !node.connected || node.flags.some((flag) => /fail|handshake|noaddr/.test(flag)));
        if (odd !== undefined) return `node ${port} sees node ${odd.port} as ${odd.flags.join(',')} (${odd.connected ? 'connected' : 'disconnected'}${odd.openSlots ? ', slot open' : ''})`;
        const byId = new Map(view.map((node) => [node.id, node]));
        const masterCount = view.filter((node) => node.master).length;
        if (masterCount !== masters) return `node ${port} sees ${masterCount} masters, expected ${masters}`;
        const me = view.find((node) => node.flags.includes('myself'));
        if (me !== undefined && !me.master) {
          const replication = parseInfo(String(await admin(port).call('INFO', 'replication')));
          if (replication.get('master_link_status') !== 'up') return `replica ${port}: link to its master is ${replication.get('master_link_status')}`;
          if (replication.get('master_port') !== String(byId.get(me.masterId ?? '')?.port)) return `replica ${port}: replicating ${replication.get('master_port')}, not its master`;
        }
        views.push(
          view
            .map((node) => `${node.port}:${node.master ? 'M' : `R${byId.get(node.masterId ?? '')?.port}`}:${node.slots.map((r) => r.join('-')).join(',')}`)
            .sort()
            .join(' '),
        );
      }
      const disagreeing = views.findIndex((view) => view !== views[0]);
      return disagreeing < 0 ? null : `nodes ${running[0]?.port} and ${running[disagreeing]?.port} disagree:\n${views[0]}\n${views[disagreeing]}`;
    };

    /** Each node's own state and view of the others, for a failure message: enough to tell why it did not settle. */
    const picture = async (): Promise<string> => {
      const lines: string[] = [];
      for (const { port, output } of running) {
        const log = output().trimEnd().split('\n').slice(-12).map((line) => `  log: ${line}`);
        try {
          const info = parseInfo(String(await admin(port).call('CLUSTER', 'INFO')));
          lines.push(`node ${port}: cluster_state ${info.get('cluster_state')}, ${info.get('cluster_slots_ok')} slots ok, ${info.get('cluster_slots_pfail')} pfail, ${info.get('cluster_slots_fail')} fail, epoch ${info.get('cluster_current_epoch')}`);
          for (const node of await nodes(port)) {
            const role = node.master ? `master of ${node.slots.map((r) => r.join('-')).join(',') || 'no slots'}` : `replica of ${node.masterId?.slice(0, 8)}`;
            lines.push(`  sees ${node.port} (${node.id.slice(0, 8)}) ${node.flags.join(',')} ${node.connected ? 'connected' : 'disconnected'}, ${role}`);
          }
        } catch (error) {
          lines.push(`node ${port}: ${error instanceof Error ? error.message : String(error)}`);
        }
        lines.push(...log);
      }
      return lines.join('\n');
    };

    const settled = async (): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let reason: string | null;
        try {
          reason = await unsettled();
        } catch (error) {
          reason = error instanceof Error ? error.message : String(error);
        }
        if (reason === null) return;
        if (Date.now() > deadline) throw new ClusterError(`the private cluster did not settle in ${timeoutMs} ms: ${reason}\n${await picture()}`);
        await sleep(50);
      }
    };

    const mastersNow = async (): Promise<ClusterMaster[]> => {
      const view = await nodes();
      return view
        .filter((node) => node.master && node.slots.length > 0)
        .map((node) => ({
          id: node.id,
          port: node.port,
          url: `redis://${HOST}:${node.port}`,
          slots: node.slots,
          slotCount: node.slots.reduce((sum, [from, to]) => sum + to - from + 1, 0),
          replicas: view.filter((other) => other.masterId === node.id).map((other) => other.port).sort((a, b) => a - b),
        }))
        .sort((a, b) => a.slots[0]![0] - b.slots[0]![0]);
    };

    const slotOf = async (key: string): Promise<number> => Number(await admin(anyPort()).call('CLUSTER', 'KEYSLOT', key));

    const masterOf = async (keyOrSlot: string | number): Promise<ClusterMaster> => {
      const slot = typeof keyOrSlot === 'number' ? keyOrSlot : await slotOf(keyOrSlot);
      const owner = (await mastersNow()).find((master) => master.slots.some(([from, to]) => slot >= from && slot <= to));
      if (owner === undefined) throw new ClusterError(`no master serves slot ${slot}`);
      return owner;
    };

    const masterOnPort = async (port: number): Promise<ClusterMaster> => {
      const all = await mastersNow();
      const master = all.find((candidate) => candidate.port === port);
      if (master === undefined) throw new ClusterError(`no master on port ${port}; masters: ${all.map((m) => m.port).join(', ')}`);
      return master;
    };

    const countKeys = async (match?: string): Promise<Map<number, number>> => {
      const counts = new Map<number, number>();
      for (const { port } of await mastersNow()) {
        const client = admin(port);
        if (match === undefined) {
          counts.set(port, await client.dbsize());
          continue;
        }
        let count = 0;
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1_000);
          cursor = next;
          count += keys.length;
        } while (cursor !== '0');
        counts.set(port, count);
      }
      return counts;
    };

    const reshard = async ({ from, to, slots }: { from: number; to: number; slots: number }): Promise<void> => {
      if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots: expected a whole number >= 1, got ${slots}`);
      await settled(); // redis-cli refuses to reshard a cluster whose nodes disagree
      const [source, target] = await Promise.all([masterOnPort(from), masterOnPort(to)]);
      await redisCli(
        ['--cluster', 'reshard', `${HOST}:${source.port}`, '--cluster-from', source.id, '--cluster-to', target.id,
          '--cluster-slots', String(slots), '--cluster-yes'],
        timeoutMs,
      );
      await settled();
    };

    const beginSlotMigration = async (slot: number, to: number): Promise<SlotMigration> => {
      if (!Number.isInteger(slot) || slot < 0 || slot >= CLUSTER_SLOTS) throw new RangeError(`slot: expected 0-${CLUSTER_SLOTS - 1}, got ${slot}`);
      await settled();
      const [source, target] = await Promise.all([masterOf(slot), masterOnPort(to)]);
      if (source.port === target.port) throw new ClusterError(`slot ${slot} is already on the master on port ${to}`);
      // Importing first, then migrating: the order redis-cli uses, so no client is ever sent to a target that refuses it.
      await admin(target.port).call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
      await admin(source.port).call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
      const moveKeys = async (count = 100): Promise<number> => {
        const keys = (await admin(source.port).call('CLUSTER', 'GETKEYSINSLOT', slot, count)) as string[];
        if (keys.length > 0) await admin(source.port).call('MIGRATE', HOST, target.port, '', 0, 10_000, 'KEYS', ...keys);
        return keys.length;
      };
      let finished: Promise<void> | undefined;
      return {
        slot,
        from: source.port,
        to: target.port,
        moveKeys,
        finish: () =>
          (finished ??= (async () => {
            while ((await moveKeys(1_000)) > 0);
            // The target first, so the slot is never owned by nobody; then the source and everyone else.
            await admin(target.port).call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
            await admin(source.port).call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
            for (const master of await mastersNow()) {
              if (master.port !== source.port && master.port !== target.port) await admin(master.port).call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
            }
            await settled();
          })()),
      };
    };

    const failover = async (masterPort: number, { mode = 'default' }: { mode?: 'default' | 'force' | 'takeover' } = {}): Promise<Failover> => {
      await settled();
      const master = await masterOnPort(masterPort);
      const replica = master.replicas[0];
      if (replica === undefined) throw new ClusterError(`the master on port ${masterPort} has no replica to promote; start the cluster with replicas >= 1`);
      const started = Date.now();
      await admin(replica).call('CLUSTER', 'FAILOVER', ...(mode === 'default' ? [] : [mode.toUpperCase()]));
      const deadline = started + timeoutMs;
      for (;;) {
        const promoted = await mastersNow().catch(() => []);
        if (promoted.some((m) => m.port === replica && m.replicas.includes(masterPort))) break;
        if (Date.now() > deadline) throw new ClusterError(`replica ${replica} was not promoted within ${timeoutMs} ms`);
        await sleep(20);
      }
      await settled();
      return { promoted: replica, demoted: masterPort, ms: Date.now() - started };
    };

    const flushAll = async (): Promise<void> => {
      await Promise.all((await mastersNow()).map(({ port }) => admin(port).flushall()));
    };

    await settled();
    return {
      servers,
      seeds: servers.map(({ port }) => ({ host: HOST, port })),
      urls: servers.map(({ url }) => url),
      pids: servers.map(({ pid }) => pid),
      dir: root,
      masters: mastersNow,
      slotOf,
      masterOf,
      countKeys,
      reshard,
      beginSlotMigration,
      failover,
      settled,
      flushAll,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
