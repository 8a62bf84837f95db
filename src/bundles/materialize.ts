// Reading bundles back: manifests verified by hash, working folders written file by file.
import { chmod, mkdir, readdir, realpath, stat, writeFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { SlipwayError } from "../errors.js";
import { sha256 } from "../util/hash.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { runDag } from "../util/dag.js";
import type { BundleFile, BundleManifest } from "./manifest.js";
import { CONCURRENCY, HEX64, bundleKey, checkTree, fileBlobKey, safeJoin, unsafePathReason } from "./paths.js";

/** Loads, verifies (content hash) and validates a manifest, including every path. */
export async function loadManifest(blobs: BlobStore, hash: string): Promise<BundleManifest> {
  if (!HEX64.test(hash)) throw new SlipwayError("bundle_invalid", `invalid bundle hash ${JSON.stringify(hash)}`);
  const data = await blobs.get(bundleKey(hash));
  if (!data) throw new SlipwayError("bundle_not_found", `bundle ${hash} is not in the blob store`);
  if (sha256(data) !== hash) throw new SlipwayError("bundle_corrupt", `bundle ${hash}: manifest content does not match its hash`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch {
    throw new SlipwayError("bundle_invalid", `bundle ${hash}: manifest is not JSON`);
  }
  const m = parsed as { version?: unknown; files?: unknown };
  if (!m || typeof m !== "object" || m.version !== 1 || !Array.isArray(m.files)) {
    throw new SlipwayError("bundle_invalid", `bundle ${hash}: not a version 1 manifest`);
  }
  const files: BundleFile[] = [];
  for (const f of m.files as unknown[]) {
    const e = f as Partial<BundleFile> | null;
    const path = e && typeof e === "object" ? e.path : undefined;
    const reason = unsafePathReason(path);
    if (reason) throw new SlipwayError("bundle_unsafe_path", `bundle ${hash}: path ${JSON.stringify(path)} ${reason}; refusing to write it`);
    if (e!.mode !== 0o644 && e!.mode !== 0o755) throw new SlipwayError("bundle_invalid", `bundle ${hash}: ${JSON.stringify(path)} has mode ${e!.mode}`);
    if (typeof e!.size !== "number" || !Number.isSafeInteger(e!.size) || e!.size < 0) throw new SlipwayError("bundle_invalid", `bundle ${hash}: ${JSON.stringify(path)} has an invalid size`);
    if (typeof e!.sha256 !== "string" || !HEX64.test(e!.sha256)) throw new SlipwayError("bundle_invalid", `bundle ${hash}: ${JSON.stringify(path)} has an invalid sha256`);
    files.push({ path: path as string, mode: e!.mode, size: e!.size, sha256: e!.sha256 });
  }
  checkTree(files.map((f) => f.path), `bundle ${hash}: path`);
  return { version: 1, files };
}

export async function readVerifiedBlob(blobs: BlobStore, f: BundleFile): Promise<Buffer> {
  const data = await blobs.get(fileBlobKey(f.sha256));
  if (!data) throw new SlipwayError("bundle_blob_missing", `bundle file ${JSON.stringify(f.path)}: blob ${f.sha256} is missing from the blob store`);
  if (data.length !== f.size || sha256(data) !== f.sha256) {
    throw new SlipwayError("bundle_corrupt", `bundle file ${JSON.stringify(f.path)}: blob content does not match sha256 ${f.sha256}`);
  }
  return data;
}

/** Creates `workDir` (it must be missing or an empty folder). */
export async function prepareWorkDir(workDir: string): Promise<string> {
  const abs = resolve(workDir);
  let st: Stats | undefined;
  try {
    st = await stat(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (st) {
    if (!st.isDirectory()) throw new SlipwayError("workdir_not_empty", `working folder ${abs} exists and is not a folder`);
    if ((await readdir(abs)).length > 0) throw new SlipwayError("workdir_not_empty", `working folder ${abs} is not empty`);
  } else {
    await mkdir(abs, { recursive: true });
  }
  return realpath(abs);
}

/**
 * Writes bundle `hash` into `workDir` (created; must be missing or empty), each file with its mode.
 * The manifest is checked entirely (paths, modes, hashes) before anything is written, and each blob's
 * sha256 is verified before its file is written.
 */
export async function materializeBundle(blobs: BlobStore, hash: string, workDir: string): Promise<void> {
  const manifest = await loadManifest(blobs, hash);
  const lexicalRoot = resolve(workDir);
  for (const f of manifest.files) safeJoin(lexicalRoot, f.path, "bundle path");
  const root = await prepareWorkDir(workDir);
  const written = await runDag({
    nodes: manifest.files,
    key: (f) => f.path,
    limit: CONCURRENCY,
    run: async (f) => {
      const target = safeJoin(root, f.path, "bundle path");
      const data = await readVerifiedBlob(blobs, f);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, data, { flag: "wx", mode: f.mode });
      await chmod(target, f.mode); // the umask must not decide whether the runner is executable
    },
  });
  if (written.failed.length) throw written.failed[0]!.error;
}
