/** Replaces every secret value in `text` with "***". Longest first, so overlapping secrets are fully hidden. */
export function redact(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret && out.includes(secret)) out = out.split(secret).join("***");
  }
  return out;
}

/**
 * `value` with every secret replaced in its strings (keys included), for JSON documents: masking
 * the serialized text instead would turn `false` into `***` when a secret is "false" (invalid JSON),
 * and miss a secret holding a quote or backslash (serialized escaped).
 */
export function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return redact(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets));
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(value)) out[redact(k, secrets)] = redactValue(v, secrets);
    return out;
  }
  return value;
}
