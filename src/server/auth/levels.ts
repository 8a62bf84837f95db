// Permission levels. CAN_VIEW < CAN_RUN < CAN_MANAGE; CAN_QUERY (call an endpoint) is met by CAN_QUERY
// or CAN_MANAGE and gives nothing else: a query-only principal cannot even view.
import type { AccessLevel } from "../../operations/context.js";

export const LEVELS = ["CAN_VIEW", "CAN_RUN", "CAN_MANAGE", "CAN_QUERY"] as const satisfies readonly AccessLevel[];

const RANK: Record<AccessLevel, number> = { CAN_QUERY: 0, CAN_VIEW: 1, CAN_RUN: 2, CAN_MANAGE: 3 };

export function isLevel(value: string): value is AccessLevel {
  return (LEVELS as readonly string[]).includes(value);
}

/** Whether a grant of `granted` allows what needs `needed`. */
export function meets(granted: AccessLevel, needed: AccessLevel): boolean {
  if (needed === "CAN_QUERY") return granted === "CAN_QUERY" || granted === "CAN_MANAGE";
  return granted !== "CAN_QUERY" && RANK[granted] >= RANK[needed];
}
