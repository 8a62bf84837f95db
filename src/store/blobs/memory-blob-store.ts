// A blob store in memory: scratch space (building an archive, hashing a folder), and tests.
import { readFile, rename, writeFile } from "node:fs/promises";
import { checkKey, checkPrefix, type BlobEntry, type BlobStore } from "./blob-store.js";

export class MemoryBlobStore implements BlobStore {
  readonly location = "memory";
  private readonly data = new Map<string, Buffer>();
  private readonly times = new Map<string, string>();

  async put(key: string, data: Uint8Array | string): Promise<void> {
    checkKey(key);
    this.data.set(key, Buffer.from(data));
    this.times.set(key, new Date().toISOString());
  }
  async putFile(key: string, file: string): Promise<void> {
    checkKey(key);
    this.data.set(key, await readFile(file));
    this.times.set(key, new Date().toISOString());
  }
  async get(key: string): Promise<Buffer | undefined> {
    checkKey(key);
    return this.data.get(key);
  }
  async getFile(key: string, file: string): Promise<boolean> {
    checkKey(key);
    const data = this.data.get(key);
    if (!data) return false;
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
    return true;
  }
  async has(key: string): Promise<boolean> {
    checkKey(key);
    return this.data.has(key);
  }
  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async listDetailed(prefix: string): Promise<BlobEntry[]> {
    return (await this.list(prefix)).map((key) => ({ key, size: this.data.get(key)!.length, modified: this.times.get(key) ?? null }));
  }
  async delete(key: string): Promise<void> {
    checkKey(key);
    this.data.delete(key);
    this.times.delete(key);
  }
}
