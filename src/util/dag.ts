// The one scheduler for work with prerequisites and a concurrency bound: the engine's apply, a run's
// task graph and the bundle capture pool all use it. A node starts once every prerequisite succeeded;
// after the first failure (or an abort) nothing new starts and what runs is allowed to finish.

export interface DagOptions<T> {
  nodes: readonly T[];
  key(node: T): string;
  /** Keys of nodes that must succeed before this one starts (keys outside `nodes` are ignored). */
  prerequisites?(node: T): readonly string[];
  /** At most this many nodes run at once (nodes for which `free` answers true do not count). */
  limit: number;
  /** Nodes that take no slot of `limit` (they only wait on something shared, such as a batch). */
  free?(node: T): boolean;
  /** Stops starting new nodes when aborted. */
  signal?: AbortSignal;
  /** Runs one node: returning false or throwing is a failure. */
  run(node: T): Promise<boolean | void>;
}

export interface DagResult<T> {
  succeeded: T[];
  failed: Array<{ node: T; error?: unknown }>;
  /** Nodes never started (a failure, an abort, or a prerequisite that did not succeed). */
  notStarted: T[];
}

export async function runDag<T>(options: DagOptions<T>): Promise<DagResult<T>> {
  const { nodes, key, limit, signal } = options;
  const result: DagResult<T> = { succeeded: [], failed: [], notStarted: [] };
  if (nodes.length === 0) return result;
  const keys = new Set(nodes.map(key));
  const waiting = new Map<T, number>();
  const dependents = new Map<string, T[]>();
  for (const node of nodes) {
    const before = (options.prerequisites?.(node) ?? []).filter((k) => keys.has(k));
    waiting.set(node, before.length);
    for (const b of before) {
      const list = dependents.get(b);
      if (list) list.push(node);
      else dependents.set(b, [node]);
    }
  }
  // Two queues: nodes that take a slot, and free ones, which start as soon as they are ready.
  const isFree = options.free ?? (() => false);
  const ready: T[] = [];
  const readyFree: T[] = [];
  const push = (n: T) => (isFree(n) ? readyFree : ready).push(n);
  for (const n of nodes) if (waiting.get(n) === 0) push(n);
  const started = new Set<T>();
  let running = 0;
  let slotsTaken = 0;
  let stopped = false;
  await new Promise<void>((done) => {
    const start = (node: T, free: boolean) => {
      started.add(node);
      running++;
      if (!free) slotsTaken++;
      options.run(node).then(
        (ok) => finish(node, free, ok !== false),
        (error: unknown) => finish(node, free, false, error),
      );
    };
    const pump = () => {
      while (readyFree.length > 0 && !stopped && !signal?.aborted) for (const node of readyFree.splice(0)) start(node, true);
      while (slotsTaken < Math.max(1, limit) && ready.length > 0 && !stopped && !signal?.aborted) start(ready.shift()!, false);
      if (running === 0) done();
    };
    const finish = (node: T, free: boolean, ok: boolean, error?: unknown) => {
      running--;
      if (!free) slotsTaken--;
      if (ok) {
        result.succeeded.push(node);
        for (const next of dependents.get(key(node)) ?? []) {
          const left = waiting.get(next)! - 1;
          waiting.set(next, left);
          if (left === 0) push(next);
        }
      } else {
        result.failed.push({ node, error });
        stopped = true;
      }
      pump();
    };
    pump();
  });
  for (const node of nodes) if (!started.has(node)) result.notStarted.push(node);
  return result;
}
