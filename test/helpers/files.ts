// Folder helpers shared by tests that write and compare file trees (the bundle tests).
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Writes `files` (posix relative path → content) under `root`, making folders as needed. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    const abs = join(root, ...p.split("/"));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
}

/** Every path (files, folders, links) under `root`, posix, sorted; none when it does not exist. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) await walk(join(dir, e.name), r);
    }
  };
  if (existsSync(root)) await walk(root, "");
  return out.sort();
}
