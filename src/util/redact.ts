/** Replaces every secret value in `text` with "***". Longest first, so overlapping secrets are fully hidden. */
export function redact(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret && out.includes(secret)) out = out.split(secret).join("***");
  }
  return out;
}
