// The "deployed" marker of a module. Its record in state is what protects the module from an
// accidental destroy (even after its block is deleted from the config) and what lets dependents deploy.
import type { Provider } from "./provider.js";
import { iso } from "../clock.js";

export const moduleProvider: Provider = {
  kind: "module",
  async create(ctx) {
    return { deployed_at: iso(ctx.clock.now()) };
  },
  async update(ctx) {
    return { deployed_at: iso(ctx.clock.now()) };
  },
  async delete() {},
  diff: () => "update",
};
