// A blob store in memory: scratch space (building an archive, hashing a folder), and tests.
import type { BlobStore } from "./blob-store.js";

export class MemoryBlobStore implements BlobStore {
  readonly location = "memory";
  private readonly data = new Map<string, Buffer>();

  async put(key: string, data: Uint8Array | string): Promise<void> {
    this.data.set(key, Buffer.from(data));
  }
  async get(key: string): Promise<Buffer | undefined> {
    return this.data.get(key);
  }
  async has(key: string): Promise<boolean> {
    return this.data.has(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
}
