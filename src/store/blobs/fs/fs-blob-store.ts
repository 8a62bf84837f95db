// Embedded default blob store: files under SLIPWAY_HOME/blobs, written atomically (temp file + rename).
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { BlobStore } from "../blob-store.js";

export class FsBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  private path(key: string): string {
    if (key.split("/").some((part) => part === ".." || part === "") ) throw new Error(`invalid blob key "${key}"`);
    return join(this.root, ...key.split("/"));
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async has(key: string): Promise<boolean> {
    return existsSync(this.path(key));
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (!e.name.endsWith(".tmp")) out.push(relative(this.root, full).split(sep).join("/"));
      }
    };
    // Walk only the folder the prefix's complete segments name ("a/b/c" -> a/b), not the whole store.
    const folder = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (folder.split("/").some((part) => part === "..")) throw new Error(`invalid blob prefix "${prefix}"`);
    await walk(folder ? join(this.root, ...folder.split("/").filter(Boolean)) : this.root);
    return out.filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
