// Checks on the compiled resource graph as a whole. Module cycles and task cycles are found where
// they are declared; a cycle can also arise *across* modules — a resource referring to one in a module
// that depends on its own module (schedule in A -> job in B -> module A, because B depends_on A) —
// and must be invalid input at validation, not an error from the planner.
import type { Diagnostic, SourceLocation } from "../errors.js";

interface Node {
  address: string;
  dependsOn: readonly string[];
  module?: string;
  location?: SourceLocation;
}

/** The first cycle in the graph, as addresses from a node back to itself; iterative (no recursion). */
export function findGraphCycle(nodes: readonly Node[]): string[] | undefined {
  const byAddress = new Map(nodes.map((n) => [n.address, n]));
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const start of nodes) {
    if (state.has(start.address)) continue;
    const path: string[] = [];
    const stack: Array<{ address: string; next: number }> = [{ address: start.address, next: 0 }];
    state.set(start.address, 1);
    path.push(start.address);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const deps = byAddress.get(top.address)?.dependsOn ?? [];
      if (top.next < deps.length) {
        const dep = deps[top.next++]!;
        if (!byAddress.has(dep)) continue;
        const s = state.get(dep);
        if (s === 1) return [...path.slice(path.indexOf(dep)), dep];
        if (s === undefined) {
          state.set(dep, 1);
          path.push(dep);
          stack.push({ address: dep, next: 0 });
        }
      } else {
        state.set(top.address, 2);
        path.pop();
        stack.pop();
      }
    }
  }
  return undefined;
}

/** Reports a dependency cycle among resources (each entry of `dependsOn` must deploy first). */
export function reportResourceCycle(nodes: readonly Node[], diagnostics: Diagnostic[]): void {
  const cycle = findGraphCycle(nodes);
  if (!cycle) return;
  const byAddress = new Map(nodes.map((n) => [n.address, n]));
  // Name the reference that crosses modules: that is the one the user wrote and can move.
  let culprit = byAddress.get(cycle[0]!)!;
  for (let i = 0; i + 1 < cycle.length; i++) {
    const from = byAddress.get(cycle[i]!)!;
    const to = byAddress.get(cycle[i + 1]!)!;
    if (from.module !== to.module && !to.address.startsWith("module.")) {
      culprit = from;
      break;
    }
  }
  diagnostics.push({
    location: culprit.location,
    message: `resources depend on each other in a cycle: ${cycle.join(" -> ")}`,
    hint: `${culprit.address} refers to a resource in a module that depends on its own module (${culprit.module}); move one of them, or drop the depends_on`,
  });
}
