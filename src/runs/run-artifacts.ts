// Files a job declares as artifacts (`artifacts: [GLOB, …]` on the job or its tasks): after the run,
// the files under its output folder ($SLIPWAY_OUTPUT_DIR) that match land in the `artifacts` archive,
//
//   runs/<run id>/artifacts/<path>     each matching file, as it was when the run ended
//
// and the run's provenance lists them ({path: {sha256, size}}), which `runs show` prints. A pattern is
// relative to the output folder; the config refuses absolute ones and `..` (artifactPatternProblem).
// A task can still leave a symbolic link there pointing anywhere: only regular files reached without
// following a link are taken, so no pattern copies a file from outside the output folder.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { glob } from "tinyglobby";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { listFiles } from "../util/list-files.js";
import { artifactPatternProblem } from "../config/safe-paths.js";

export type RunArtifacts = Record<string, { sha256: string; size: number }>;

export function runArtifactKey(runId: string, path: string): string {
  return `runs/${runId}/artifacts/${path}`;
}

/** The files under `root` matching any of `patterns`: regular files only, never through a symbolic link. */
export async function matchArtifacts(root: string, patterns: readonly string[]): Promise<string[]> {
  const usable = patterns.filter((p) => !artifactPatternProblem(p));
  if (!usable.length) return [];
  // listFiles neither descends into linked folders nor lists links: what it lists is really inside.
  const inside = new Set(await listFiles(root));
  const matched = await glob([...usable], { cwd: root, onlyFiles: true, dot: true, followSymbolicLinks: false, expandDirectories: false });
  const out: string[] = [];
  for (const path of new Set(matched)) {
    if (!inside.has(path)) continue;
    const s = await lstat(join(root, path)).catch(() => undefined);
    if (s?.isFile()) out.push(path);
  }
  return out.sort();
}

/** Stores the matching files under the run's key prefix; returns what was stored. */
export async function archiveRunArtifacts(store: BlobStore, runId: string, root: string, patterns: readonly string[]): Promise<RunArtifacts> {
  const stored: RunArtifacts = {};
  for (const path of await matchArtifacts(root, patterns)) {
    const file = join(root, path);
    const { sha256, size } = await describeFile(file);
    await store.putFile(runArtifactKey(runId, path), file);
    stored[path] = { sha256, size };
  }
  return stored;
}

function describeFile(file: string): Promise<{ sha256: string; size: number }> {
  return new Promise((resolvePromise, reject) => {
    const h = createHash("sha256");
    let size = 0;
    createReadStream(file)
      .on("data", (d) => {
        h.update(d);
        size += d.length;
      })
      .on("end", () => resolvePromise({ sha256: h.digest("hex"), size }))
      .on("error", reject);
  });
}
