// Embedded default blob store: files under SLIPWAY_HOME/blobs, written atomically (temp file + rename).
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BlobStore } from "../blob-store.js";
import { listFiles } from "../../../util/list-files.js";

export class FsBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

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
    // Walk only the folder the prefix's complete segments name ("a/b/c" -> a/b), not the whole store.
    const folder = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (folder.split("/").some((part) => part === "..")) throw new Error(`invalid blob prefix "${prefix}"`);
    const files = await listFiles(this.root, folder ? join(this.root, ...folder.split("/").filter(Boolean)) : this.root);
    return files.filter((k) => k.startsWith(prefix) && !k.endsWith(".tmp")).sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
