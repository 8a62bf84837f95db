// Bundles (this folder's public face): a job's source folder (minus what .gitignore / .slipwayignore exclude), its resolved
// configuration and Slipway's runner script, captured content-addressed in the blob store.
//
//   files/<sha256>            one blob per distinct file content (written only when new)
//   trees/<sha256>            format 2: one node per directory listing (large ones split in pages), see tree.ts
//   bundles/<sha256>.json     format 2: the record {version: 2, tree, files, bytes}; format 1 (older bundles,
//                             and artifacts): the flat manifest {version: 1, files: [...]}, sorted by path.
//                             Either way the bundle's hash is the sha256 of exactly these bytes
//
// Re-capturing after one file changed writes that file's blob, the tree nodes on its path and a new
// record, nothing else. materializeBundle() writes a bundle into a fresh working folder; checkoutBundle()
// reuses the working folder of an earlier run, put right (workdir.ts); packBundle()/unpackArchive()
// carry it to remote executors as a .tar.gz. None ever writes outside the working folder, whatever the
// manifest, the tree or the archive says: every path is checked before anything is written.
export { bundleKey, fileBlobKey, treeKey } from "./paths.js";
export type { BundleFile, BundleManifest, CaptureOptions, CaptureResult, ExtraFile } from "./manifest.js";
export { rebaseIgnoreRules } from "./ignore.js";
export { captureBundle } from "./capture.js";
export { loadManifest, materializeBundle } from "./materialize.js";
export { checkoutBundle, returnWorkDir, releaseSlot, type CheckoutResult, type WorkDirOptions } from "./workdir.js";
export { packBundle, unpackArchive } from "./pack.js";
export { parseNode, type BuiltTree, type ParsedNode } from "./tree.js";
export { scanSource, type SourceScan } from "./scan.js";
