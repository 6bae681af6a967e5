/**
 * Calls made in the same moment — one turn of Node's event loop, before it next looks at I/O —
 * gathered per key and sent as one batch (in requests of at most `maxItems`). A worker running 50
 * jobs at once finishes many of them on the same turn (the replies that resume them arrive in one
 * socket read), so recording their outcomes in one request per key (the store's: one Redis server,
 * or one workflow on a cluster), instead of one per job, saves a request and its system calls on
 * both sides for each of them; so does reading them for the `get()`s woken together. A lone call
 * waits for nothing: the batch leaves at the end of the turn it was made in.
 */

interface Pending<TItem, TResult> {
  readonly item: TItem;
  readonly resolve: (result: TResult) => void;
  readonly reject: (error: unknown) => void;
}

export class TickBatcher<TItem, TReply, TResult> {
  private pending = new Map<string, Pending<TItem, TResult>[]>();

  constructor(
    /** Sends one key's batch: one reply per item, in order. */
    private readonly send: (key: string, items: readonly TItem[]) => Promise<readonly TReply[]>,
    /** Turns an item's reply into its result; what it throws rejects that item alone. */
    private readonly settle: (item: TItem, reply: TReply) => TResult,
    /** Items per request at most: a larger batch goes as several requests, sent at once. */
    private readonly maxItems = Infinity,
  ) {}

  /** Queues `item` under `key`; resolves with its result once its batch was answered. */
  add(key: string, item: TItem): Promise<TResult> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) process.nextTick(() => this.flush());
      let batch = this.pending.get(key);
      if (batch === undefined) this.pending.set(key, (batch = []));
      batch.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    for (const [key, batch] of batches) {
      for (let from = 0; from < batch.length; from += this.maxItems) void this.sendBatch(key, batch.slice(from, from + this.maxItems));
    }
  }

  private async sendBatch(key: string, batch: readonly Pending<TItem, TResult>[]): Promise<void> {
    let replies: readonly TReply[];
    try {
      replies = await this.send(key, batch.map((pending) => pending.item));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, k) => {
      try {
        pending.resolve(this.settle(pending.item, replies[k]!));
      } catch (error) {
        pending.reject(error);
      }
    });
  }
}
