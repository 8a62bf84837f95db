// Module hooks (`hook.<module>.<name>`): scripts that deploy and destroy sub-modules, in declared order.
import { defineKind } from "../kind.js";
import type { HookSpec } from "./compile.js";
import { hookProvider } from "./provider.js";

export type { HookSpec } from "./compile.js";

export const hookKind = defineKind<HookSpec>({
  kind: "hook",
  provider: hookProvider,
});
