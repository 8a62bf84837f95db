// The grants on one resource (`permission.<kind>.<name>`): the project's default `permissions` plus
// the resource's own. Recorded in state, so plans, revisions and rollbacks cover them; the serving
// gateway enforces endpoint grants from the endpoint's own spec. Made by compile-project.ts for
// every resource of a kind marked `permissioned`.
import type { Permission } from "../../config/schema.js";
import { recordOnly } from "../record-only.js";
import { defineKind } from "../kind.js";

export type PermissionSpec = {
  /** Address of the resource the grants apply to. */
  resource: string;
  grants: Permission[];
};

export const permissionKind = defineKind<PermissionSpec>({
  kind: "permission",
  provider: recordOnly(),
});
