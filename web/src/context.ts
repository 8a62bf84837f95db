// What every page knows: who is signed in, and the selected project and target (in the URL's ?p=&t=,
// so a link or a reload shows the same page), with what the user may do there (GET /projects/P/access).
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export interface Me {
  user: string;
  kind: string;
  admin: boolean;
  groups: string[];
}

export interface Access {
  admin: boolean;
  levels: string[];
  resources: Record<string, string[]>;
}

export interface Ctx {
  me: Me;
  projects: Array<{ name: string; targets: Array<{ name: string; default: boolean }> }>;
  project: string | null;
  target: string | null;
  access: Access | null;
  /** A dashboard link keeping the selected project and target. */
  link(path: string, extra?: Record<string, string>): string;
  /** `?target=…` for API calls on the selected target. */
  tq(extra?: Record<string, string | number | undefined>): string;
}

export const AppContext = createContext<Ctx>(null as never);
export const useApp = () => useContext(AppContext);

const RANK: Record<string, number> = { CAN_VIEW: 1, CAN_RUN: 2, CAN_MANAGE: 3 };

/** Whether the user holds `level` on the target, or on the resource `address` (config or API grants there). */
export function can(access: Access | null, level: "CAN_RUN" | "CAN_MANAGE", address?: string): boolean {
  if (!access) return false;
  if (access.admin) return true;
  const held = [...access.levels, ...(address ? access.resources[address] ?? [] : [])];
  return held.some((l) => (RANK[l] ?? 0) >= RANK[level]!);
}
