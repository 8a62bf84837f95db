// Collects work that arrives in the same turn of the event loop and hands it over in one call: the
// apply commits state-only actions that become ready together in one transaction (see apply.ts),
// instead of three statements and two commits each.

/** Most items one flush takes: bounds how long one transaction holds the state's write lock. */
export const MAX_BATCH = 1000;

export class Batcher<T> {
  private queue: Array<{ item: T; resolve: () => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  /** Flushes run one after another, in the order their items arrived. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  /** Resolves once the flush that took `item` has finished (rejects if it threw). */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.takeAll());
      }
    });
  }

  private takeAll(): void {
    this.scheduled = false;
    const taken = this.queue;
    this.queue = [];
    for (let i = 0; i < taken.length; i += MAX_BATCH) {
      const part = taken.slice(i, i + MAX_BATCH);
      this.chain = this.chain.then(() =>
        this.flush(part.map((p) => p.item)).then(
          () => part.forEach((p) => p.resolve()),
          (e: unknown) => part.forEach((p) => p.reject(e)),
        ),
      );
    }
  }
}
