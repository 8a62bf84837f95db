// A ttl's countdown as people read it. A file of its own (no schema) so the CLI prints it without
// loading the views' schemas.
/** "23h 59m", "12m 5s", "overdue by 3m" (readable countdowns for status and ttl show). */
export function countdown(ms: number): string {
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const text = d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
  return ms < 0 ? `overdue by ${text}` : `in ${text}`;
}
