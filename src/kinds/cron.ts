// Five-field cron expressions (schedules, pipeline triggers), checked with cron-parser, and their due
// times in a time zone.
import { createRequire } from "node:module";
import type { Diagnostic, SourceLocation } from "../errors.js";

type CronParser = typeof import("cron-parser").CronExpressionParser;
let parser: CronParser | undefined;

/**
 * cron-parser (with luxon, ~360 KB) is required on first use, not imported: every command that
 * compiles a project loads this module, and most projects have no schedule (start-up, bench/startup).
 */
function cronParser(): CronParser {
  return (parser ??= (createRequire(import.meta.url)("cron-parser") as typeof import("cron-parser")).CronExpressionParser);
}

export function checkCron(cron: string, timezone: string | undefined, location: SourceLocation, report: (d: Diagnostic) => void): void {
  const hint = 'for example "0 2 * * *" for 02:00 every day';
  if (cron.trim().split(/\s+/).length !== 5) {
    report({ location, message: `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week)`, hint });
    return;
  }
  try {
    cronParser().parse(cron, timezone ? { tz: timezone } : {});
  } catch (e) {
    report({ location, message: `cron "${cron}" is invalid: ${(e as Error).message}`, hint });
  }
}

/** The first due time strictly after `after` (epoch ms). */
export function nextDue(cron: string, timezone: string, after: number): number {
  return cronParser().parse(cron, { tz: timezone, currentDate: new Date(after) }).next().getTime();
}

/** The latest due time at or before `at` (epoch ms), or undefined when there is none. */
export function latestDue(cron: string, timezone: string, at: number): number | undefined {
  // cron-parser's prev() is strictly before its current date: ask from just after `at`.
  try {
    return cronParser().parse(cron, { tz: timezone, currentDate: new Date(at + 1) }).prev().getTime();
  } catch {
    return undefined;
  }
}

/** Due times in (after, until], oldest first, at most `limit` of them. */
export function dueBetween(cron: string, timezone: string, after: number, until: number, limit = 1000): number[] {
  const out: number[] = [];
  if (until <= after) return out;
  const it = cronParser().parse(cron, { tz: timezone, currentDate: new Date(after), endDate: new Date(until + 1) });
  while (out.length < limit && it.hasNext()) {
    const t = it.next().getTime();
    if (t > until) break;
    out.push(t);
  }
  return out;
}
