/** A short id that sorts by creation time: a prefix ("d" deployment, "r" run), the time in base 36, six random characters. */
export function newId(prefix: string, now: number): string {
  return `${prefix}${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
