// Graph helpers shared by config checks and the plan: cycle detection and topological order.

/** The first cycle found, as a path that starts and ends with the same node. */
export function findCycle(nodes: string[], edges: (n: string) => string[]): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const next of edges(n)) {
      if (state.get(next) === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of nodes) {
    if (!state.has(n)) {
      const found = visit(n);
      if (found) return found;
    }
  }
  return undefined;
}

/** Kahn's algorithm, keeping declaration order among independent nodes. Edges to unknown addresses are ignored. */
export function topologicalOrder<T extends { address: string; dependsOn: readonly string[] }>(nodes: readonly T[]): T[] {
  const byAddress = new Map(nodes.map((n) => [n.address, n]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    let count = 0;
    for (const dep of n.dependsOn) {
      if (!byAddress.has(dep)) continue;
      count++;
      const list = dependents.get(dep);
      if (list) list.push(n.address);
      else dependents.set(dep, [n.address]);
    }
    waiting.set(n.address, count);
  }
  const order: T[] = [];
  const ready = nodes.filter((n) => waiting.get(n.address) === 0);
  for (let i = 0; i < ready.length; i++) {
    const n = ready[i]!;
    order.push(n);
    for (const next of dependents.get(n.address) ?? []) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(byAddress.get(next)!);
    }
  }
  if (order.length !== nodes.length) {
    const placed = new Set(order);
    const stuck = nodes.filter((n) => !placed.has(n)).map((n) => n.address);
    throw new Error(`dependency cycle among ${stuck.slice(0, 5).join(", ")}`);
  }
  return order;
}
