// Bundles (this folder's public face): a job's source folder (minus what .gitignore / .slipwayignore exclude), its resolved
// configuration and Slipway's runner script, captured content-addressed in the blob store.
//
//   files/<sha256>            one blob per distinct file content (written only when new)
//   bundles/<sha256>.json     the manifest: canonical JSON of { version: 1, files: [...] }, sorted by path;
//                             the bundle's hash is the sha256 of exactly these bytes
//
// Re-capturing after one file changed writes that file's blob and a new manifest, nothing else.
// materializeBundle() writes a bundle into a fresh working folder; packBundle()/unpackArchive() carry it
// to remote executors as a .tar.gz. Neither ever writes outside the working folder, whatever the
// manifest or the archive says: every path is checked before anything is written.
export { bundleKey, fileBlobKey } from "./paths.js";
export type { BundleFile, BundleManifest, CaptureOptions, CaptureResult, ExtraFile } from "./manifest.js";
export { rebaseIgnoreRules } from "./ignore.js";
export { captureBundle } from "./capture.js";
export { loadManifest, materializeBundle } from "./materialize.js";
export { packBundle, unpackArchive } from "./pack.js";
