// archive: a .tar.gz of the folder (what .gitignore and .slipwayignore leave, .git never), made
// deterministically (sorted paths, fixed owner and mtime), so the same content is the same file.
// The version is `version:` from the config, or derived from the content: the first 12 hex digits of
// the folder's content hash.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { captureBundle, packBundle } from "../../bundles/index.js";
import { MemoryBlobStore } from "../../store/blobs/memory-blob-store.js";
import type { ArtifactBuilder } from "./builder.js";

export const archiveBuilder: ArtifactBuilder = {
  type: "archive",
  async build(ctx) {
    const blobs = new MemoryBlobStore();
    const captured = await captureBundle(blobs, { sourceDir: ctx.dir });
    const version = ctx.spec.version ?? captured.hash.slice(0, 12);
    const data = await packBundle(blobs, captured.hash);
    const file = join(ctx.outDir, `${ctx.name}-${version}.tar.gz`);
    await writeFile(file, data);
    ctx.onLine("stdout", `packed ${captured.manifest.files.length} file(s), ${captured.bytesTotal} bytes`);
    return { file, version, package: ctx.name };
  },
};
