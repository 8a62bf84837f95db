// Permission levels. CAN_VIEW < CAN_RUN < CAN_MANAGE; CAN_QUERY (call an endpoint) is met by CAN_QUERY
// or CAN_MANAGE and gives nothing else: a query-only principal cannot even view. CAN_USE (open an
// app at /apps/NAME/) is the same for apps.
import type { AccessLevel } from "../../operations/context.js";

export const LEVELS = ["CAN_VIEW", "CAN_RUN", "CAN_MANAGE", "CAN_QUERY", "CAN_USE"] as const satisfies readonly AccessLevel[];

const RANK: Record<AccessLevel, number> = { CAN_QUERY: 0, CAN_USE: 0, CAN_VIEW: 1, CAN_RUN: 2, CAN_MANAGE: 3 };
/** Levels that give one thing only (query an endpoint, open an app): met by themselves or CAN_MANAGE. */
const SINGLE_PURPOSE = new Set<AccessLevel>(["CAN_QUERY", "CAN_USE"]);

export function isLevel(value: string): value is AccessLevel {
  return (LEVELS as readonly string[]).includes(value);
}

/** Whether a grant of `granted` allows what needs `needed`. */
export function meets(granted: AccessLevel, needed: AccessLevel): boolean {
  if (SINGLE_PURPOSE.has(needed)) return granted === needed || granted === "CAN_MANAGE";
  return !SINGLE_PURPOSE.has(granted) && RANK[granted] >= RANK[needed];
}
