import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Regular files under `dir` (recursively), as "/"-separated paths relative to `root`; a missing folder has none. */
export async function listFiles(root: string, dir: string = root): Promise<string[]> {
  const out: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(folder, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(relative(root, full).split(sep).join("/"));
    }
  };
  await walk(dir);
  return out;
}
