// The one scheduler for work with prerequisites and a concurrency bound: the engine's apply, a run's
// task graph and the bundle capture pool all use it. A node starts once every prerequisite succeeded;
// after the first failure (or an abort) nothing new starts and what runs is allowed to finish.

export interface DagOptions<T> {
  nodes: readonly T[];
  key(node: T): string;
  /** Keys of nodes that must succeed before this one starts (keys outside `nodes` are ignored). */
  prerequisites?(node: T): readonly string[];
  /** At most this many nodes run at once. */
  limit: number;
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
  const ready = nodes.filter((n) => waiting.get(n) === 0);
  const started = new Set<T>();
  let running = 0;
  let stopped = false;
  await new Promise<void>((done) => {
    const pump = () => {
      while (running < Math.max(1, limit) && ready.length > 0 && !stopped && !signal?.aborted) {
        const node = ready.shift()!;
        started.add(node);
        running++;
        options.run(node).then(
          (ok) => finish(node, ok !== false),
          (error: unknown) => finish(node, false, error),
        );
      }
      if (running === 0) done();
    };
    const finish = (node: T, ok: boolean, error?: unknown) => {
      running--;
      if (ok) {
        result.succeeded.push(node);
        for (const next of dependents.get(key(node)) ?? []) {
          const left = waiting.get(next)! - 1;
          waiting.set(next, left);
          if (left === 0) ready.push(next);
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
