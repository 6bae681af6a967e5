/**
 * Keeps the {@link TaskTable} current: on start it reads the task-event stream's history (newest
 * first, page by page, until it has `maxTasks` tasks or reaches the stream's start), folds it in
 * oldest first, then follows the stream live from the newest event it read. A tail that fails
 * (Redis restarted) is resumed from the last event folded, after a pause.
 */
import type { Logger, StoredTaskEvent, TaskEventReader } from '@celeriac/runtime';
import type { TaskTable } from './task-table.js';

/** Where the feed is. */
export type FeedStatus = 'idle' | 'loading' | 'live' | 'closed';

/** Events read per history page (the reader's maximum). */
const PAGE = 1_000;
/** Milliseconds before a failed tail is resumed. */
const RETRY_MS = 1_000;

/** Reads task events into a table; see the module comment. */
export class EventFeed {
  status: FeedStatus = 'idle';
  /** Events read from history at start, and how long that took. */
  loaded = 0;
  loadMs = 0;
  private readonly stop = new AbortController();
  private running: Promise<void> | undefined;
  private loadedOnce: Promise<void> | undefined;

  constructor(
    /** The app's events reader, taken on start (the app connects to Redis on first use). */
    private readonly events: () => TaskEventReader,
    private readonly table: TaskTable,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * Starts reading, once; later calls return the same promise.
   *
   * @returns a promise that resolves when the history is in the table (the tail goes on)
   */
  start(): Promise<void> {
    if (this.loadedOnce !== undefined) return this.loadedOnce;
    let loaded!: () => void;
    this.loadedOnce = new Promise<void>((resolve) => (loaded = resolve));
    this.running = this.run(loaded);
    return this.loadedOnce;
  }

  /** Stops following the stream. */
  async close(): Promise<void> {
    this.status = 'closed';
    this.stop.abort();
    await this.running;
  }

  private async run(loaded: () => void): Promise<void> {
    let after: string;
    try {
      after = await this.loadHistory();
    } catch (error) {
      this.logger?.error('monitor: could not read the task-event history', error);
      after = '$';
    } finally {
      loaded();
    }
    while (!this.stop.signal.aborted) {
      this.status = 'live';
      try {
        for await (const event of this.events().tail({ after, signal: this.stop.signal })) {
          this.table.apply(event);
          after = event.id;
        }
      } catch (error) {
        if (this.stop.signal.aborted) break;
        this.logger?.warn('monitor: the task-event tail failed; resuming in a second', error);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RETRY_MS);
          this.stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    }
    this.status = 'closed';
  }

  /** Reads the history into the table; resolves to the stream id to tail from. */
  private async loadHistory(): Promise<string> {
    this.status = 'loading';
    const started = performance.now();
    const pages: (readonly StoredTaskEvent[])[] = [];
    const tasks = new Set<string>();
    let before: string | undefined;
    let newest: string | null = null;
    while (!this.stop.signal.aborted) {
      const { events, next } = await this.events().history({ limit: PAGE, ...(before === undefined ? {} : { before }) });
      if (events.length > 0) {
        newest ??= events[0]!.id;
        pages.push(events);
        this.loaded += events.length;
        for (const event of events) if ('taskId' in event) tasks.add(event.taskId);
      }
      if (next === null || tasks.size >= this.table.maxTasks) break;
      before = next;
    }
    // Oldest first, yielding to other requests every few pages.
    for (let p = pages.length - 1; p >= 0; p--) {
      const page = pages[p]!;
      for (let i = page.length - 1; i >= 0; i--) this.table.apply(page[i]!);
      if (p % 10 === 0) await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    this.loadMs = performance.now() - started;
    // An empty stream: everything written from now on is new, so read it from the start.
    return newest ?? '0';
  }
}
