/**
 * Redis's MONITOR for tests that count the commands a client sends, on a plain socket.
 *
 * Not ioredis's `monitor()`: it marks its connection as monitoring a microtask after MONITOR's
 * `+OK`, so on a busy server a command line that arrives in the same socket read as the `+OK` is
 * taken for a reply to no command, and ioredis throws "Command queue state error".
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** One command Redis executed, as MONITOR reports it. */
export interface MonitoredCommand {
  /** The command's name, spelled as the client sent it (ioredis: lower case), and its arguments, unescaped. */
  readonly args: string[];
  /** The client's address (`127.0.0.1:53122`), or `lua` for a command a script called. */
  readonly source: string;
}

export interface MonitorFeed {
  /** Resolves once every command Redis ran before this call has been passed on (MONITOR lags). */
  caughtUp(): Promise<void>;
  /** Closes the monitoring connection (and the one `caughtUp` marks progress on). */
  close(): void;
}

/** Starts MONITOR on its own connection to `redisUrl` (the tests' private Redis: no password); resolves once Redis has said `+OK`. */
export function monitorCommands(redisUrl: string, onCommand: (command: MonitoredCommand) => void): Promise<MonitorFeed> {
  const url = new URL(redisUrl);
  const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
  socket.setEncoding('latin1'); // byte by byte: MONITOR escapes every non-ASCII byte anyway
  return new Promise((resolve, reject) => {
    let buffered = '';
    let started = false;
    // `caughtUp` sends an ECHO of a fresh mark on a second connection; MONITOR lists it after
    // every command Redis ran before it.
    // A marking connection that fails fails the waits on it, instead of an unhandled 'error' event.
    const marks = new Map<string, { done(): void; fail(error: Error): void }>();
    let marker: Socket | undefined;
    const feed: MonitorFeed = {
      caughtUp: () =>
        new Promise((done, fail) => {
          const mark = `caught-up-${randomUUID()}`;
          marks.set(mark, { done, fail });
          marker ??= connect({ host: url.hostname, port: Number(url.port || 6379) })
            .on('data', () => {})
            .on('error', (error) => {
              for (const pending of marks.values()) pending.fail(error);
              marks.clear();
            });
          marker.write(`*2\r\n$4\r\necho\r\n$${mark.length}\r\n${mark}\r\n`);
        }),
      close: () => {
        socket.destroy();
        marker?.destroy();
      },
    };
    socket.on('error', (error) => (started ? undefined : reject(error)));
    socket.on('connect', () => socket.write('MONITOR\r\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line.startsWith('-')) {
          socket.destroy();
          reject(new Error(`MONITOR refused: ${line.slice(1)}`));
          return;
        }
        if (!started) {
          started = line === '+OK';
          if (started) resolve(feed);
          continue;
        }
        const command = parseLine(line);
        const marked = command.args[0] === 'echo' ? marks.get(command.args[1]!) : undefined;
        if (marked === undefined) onCommand(command);
        else {
          marks.delete(command.args[1]!);
          marked.done();
        }
      }
    });
  });
}

/** Parses `+<time> [<db> <source>] "<arg>" "<arg>"…`. */
function parseLine(line: string): MonitoredCommand {
  const close = line.indexOf(']');
  const source = line.slice(line.indexOf('[') + 1, close).split(' ')[1] ?? '';
  const args: string[] = [];
  let at = close + 1;
  while ((at = line.indexOf('"', at)) >= 0) {
    const bytes: number[] = [];
    for (at++; line[at] !== '"'; at++) {
      if (line[at] !== '\\') {
        bytes.push(line.charCodeAt(at));
        continue;
      }
      const escaped = line[++at]!;
      if (escaped === 'x') {
        bytes.push(Number.parseInt(line.slice(at + 1, at + 3), 16));
        at += 2;
      } else {
        bytes.push((ESCAPES[escaped] ?? escaped).charCodeAt(0));
      }
    }
    args.push(Buffer.from(bytes).toString('utf8'));
    at++;
  }
  return { args, source };
}

/** The single-letter escapes Redis's `sdscatrepr` writes. */
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };
