// A module setting (`setting.<module>.<key>`): one row of the settings table while its module is
// deployed. Compiled from the module file's `settings:` by compile-project.ts. Written after the
// module's hooks on deploy, and removed after its destroy hooks on destroy.
import { iso } from "../../clock.js";
import { defineKind } from "../kind.js";

export type SettingSpec = {
  module: string;
  key: string;
  value: string;
  /** Set when the value holds a secret: listings mask it. */
  sensitive?: boolean;
};

export const settingKind = defineKind<SettingSpec>({
  kind: "setting",
  removedAfter: (setting, deleting) => deleting.filter((r) => r.kind === "hook" && r.module === setting.module).map((r) => r.address),
  provider: {
    // The settings table lives in the state: applied in one transaction with its record.
    stateOnly: true,
    async create(ctx, desired) {
      const s = desired.spec;
      await ctx.state.putSetting(s.module, s.key, s.value, iso(ctx.clock.now()));
      return {};
    },
    async update(ctx, recorded, desired) {
      const before = recorded.spec;
      const s = desired.spec;
      if (before.module !== s.module || before.key !== s.key) await ctx.state.deleteSetting(before.module, before.key);
      await ctx.state.putSetting(s.module, s.key, s.value, iso(ctx.clock.now()));
      return {};
    },
    async delete(ctx, recorded) {
      await ctx.state.deleteSetting(recorded.spec.module, recorded.spec.key);
    },
  },
});
