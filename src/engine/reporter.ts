// What the engine tells its caller while it works. The CLI prints it; the SDK may ignore it.
import type { Plan, PlannedAction } from "./plan.js";

export interface Reporter {
  /** Values that must never be printed, known once the project is compiled (before any plan). */
  secrets?(values: readonly string[]): void;
  info(message: string): void;
  warn(message: string): void;
  plan?(plan: Plan, where: string): void;
  actionStarted?(action: PlannedAction): void;
  actionFinished?(action: PlannedAction, result: { ok: boolean; ms: number; error?: string }): void;
  output?(address: string, stream: "stdout" | "stderr", line: string): void;
}

export const silentReporter: Reporter = { info() {}, warn() {} };
