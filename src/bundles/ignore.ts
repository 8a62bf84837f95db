// Ignore rules: .gitignore and .slipwayignore files, rebased onto the bundle's root.
import { lstat, readFile } from "node:fs/promises";

/** Escapes a folder path so it matches itself literally inside a gitignore pattern. */
export function escapeGlob(s: string): string {
  return s.replace(/[\\*?[\]!# ]/g, "\\$&");
}

/**
 * Rewrites the lines of a .gitignore found in folder `dir` (posix, relative to the root; "" for the
 * root) into patterns relative to the root, following git: a pattern with a slash at its start or
 * middle is anchored to `dir`; one without matches at any depth below `dir`.
 */
export function rebaseIgnoreRules(text: string, dir: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === "" || raw.startsWith("#")) continue;
    if (dir === "") {
      out.push(raw);
      continue;
    }
    const negated = raw.startsWith("!");
    let body = negated ? raw.slice(1) : raw;
    body = body.replace(/(?<!\\) +$/, ""); // trailing unescaped spaces are insignificant
    if (body === "" || body === "/") continue;
    const core = body.endsWith("/") ? body.slice(0, -1) : body;
    const anchored = core.includes("/");
    const prefix = escapeGlob(dir);
    const rebased = anchored ? `${prefix}/${body.replace(/^\/+/, "")}` : `${prefix}/**/${body}`;
    out.push(`${negated ? "!" : ""}${rebased}`);
  }
  return out;
}

export async function readIfFile(path: string): Promise<string | undefined> {
  try {
    const st = await lstat(path);
    if (!st.isFile()) return undefined;
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}
