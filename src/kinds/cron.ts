// Five-field cron expressions (schedules, pipeline triggers), checked with cron-parser.
import { CronExpressionParser } from "cron-parser";
import type { Diagnostic, SourceLocation } from "../errors.js";

export function checkCron(cron: string, timezone: string | undefined, location: SourceLocation, report: (d: Diagnostic) => void): void {
  const hint = 'for example "0 2 * * *" for 02:00 every day';
  if (cron.trim().split(/\s+/).length !== 5) {
    report({ location, message: `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week)`, hint });
    return;
  }
  try {
    CronExpressionParser.parse(cron, timezone ? { tz: timezone } : {});
  } catch (e) {
    report({ location, message: `cron "${cron}" is invalid: ${(e as Error).message}`, hint });
  }
}
