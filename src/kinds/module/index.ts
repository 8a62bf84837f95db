// The "deployed" marker of a module (`module.<name>`). Its record in state is what protects the module
// from an accidental destroy (even after its block is deleted from the config) and what lets
// dependents deploy. Compiled from the module file itself by compile-project.ts. It is written last on
// deploy and removed last on destroy: a destroy that fails part-way leaves the module deployed, so
// it shows as deployed and the destroy can be run again.
import { iso } from "../../clock.js";
import { defineKind } from "../kind.js";

export type ModuleSpec = {
  /** The module's folder, relative to the project. */
  dir: string;
  depends_on: string[];
};

export const moduleKind = defineKind<ModuleSpec>({
  kind: "module",
  removedAfter: (marker, deleting) => deleting.filter((r) => r.module === marker.module && r.address !== marker.address).map((r) => r.address),
  provider: {
    stateOnly: true,
    async create(ctx) {
      return { deployed_at: iso(ctx.clock.now()) };
    },
    async update(ctx) {
      return { deployed_at: iso(ctx.clock.now()) };
    },
    async delete() {},
  },
});
