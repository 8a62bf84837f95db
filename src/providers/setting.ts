// A module setting: one row of the settings table while its module is deployed.
import type { Provider } from "./provider.js";
import { iso } from "../clock.js";

interface SettingSpec {
  module: string;
  key: string;
  value: string;
}

export const settingProvider: Provider = {
  kind: "setting",
  async create(ctx, desired) {
    const s = desired.spec as unknown as SettingSpec;
    await ctx.state.putSetting(s.module, s.key, s.value, iso(ctx.clock.now()));
    return {};
  },
  async update(ctx, recorded, desired) {
    const before = recorded.spec as unknown as SettingSpec;
    const s = desired.spec as unknown as SettingSpec;
    if (before.module !== s.module || before.key !== s.key) await ctx.state.deleteSetting(before.module, before.key);
    await ctx.state.putSetting(s.module, s.key, s.value, iso(ctx.clock.now()));
    return {};
  },
  async delete(ctx, recorded) {
    const s = recorded.spec as unknown as SettingSpec;
    await ctx.state.deleteSetting(s.module, s.key);
  },
  diff: () => "update",
};
