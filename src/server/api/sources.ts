// Project sources uploaded to the server: content-addressed bundles (src/bundles). A client asks which
// tree nodes and files the server lacks, uploads only those (files, then nodes, children before their
// parents), then the bundle record; the server materialises each source once into its own folder and
// remembers the latest source of each project, so API calls without `source` need no upload.
//
// A tree node is accepted only when everything it names is already here, so a node the server has
// comes with its whole subtree: a client that finds a folder's node here sends nothing below it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fileBlobKey, loadManifest, materializeBundle, bundleKey, parseNode, treeKey } from "../../bundles/index.js";
import { InvalidInputError, SlipwayError } from "../../errors.js";
import type { BlobStore } from "../../store/blobs/blob-store.js";
import { FsBlobStore } from "../../store/blobs/fs/fs-blob-store.js";
import { sha256 } from "../../util/hash.js";

const HEX64 = /^[0-9a-f]{64}$/;

export class SourceStore {
  readonly blobs: BlobStore;
  private readonly root: string;
  private readonly materialising = new Map<string, Promise<string>>();
  /** Project name of each materialised source (sources never change). */
  private readonly names = new Map<string, string>();

  /** `blobs`: where uploaded files and manifests go (SLIPWAY_SERVER_BLOBS); else SLIPWAY_HOME/server/sources/blobs. Materialised sources are always local. */
  constructor(home: string, blobs?: BlobStore) {
    this.root = join(home, "server", "sources");
    this.blobs = blobs ?? new FsBlobStore(join(this.root, "blobs"));
  }

  /** The files (by sha256) the server does not have. */
  async missing(files: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const sha of new Set(files)) {
      if (!HEX64.test(sha)) throw new InvalidInputError([{ message: `"${sha}" is not a sha256`, hint: "64 lowercase hex digits" }], "invalid_request");
      if (!(await this.blobs.has(fileBlobKey(sha)))) out.push(sha);
    }
    return out;
  }

  /** The tree nodes (by sha256) the server does not have (one it has comes with everything below it). */
  async missingTrees(nodes: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const sha of new Set(nodes)) {
      if (!HEX64.test(sha)) throw new InvalidInputError([{ message: `"${sha}" is not a sha256`, hint: "64 lowercase hex digits" }], "invalid_request");
      if (!(await this.blobs.has(treeKey(sha)))) out.push(sha);
    }
    return out;
  }

  /** Stores one tree node, checked, once every file and node it names is here. */
  async putTree(sha: string, data: Buffer): Promise<void> {
    if (!HEX64.test(sha)) throw new InvalidInputError([{ message: `"${sha}" is not a sha256`, hint: "64 lowercase hex digits" }], "invalid_request");
    if (sha256(data) !== sha) throw new InvalidInputError([{ message: `the uploaded node does not have sha256 ${sha}`, hint: "upload the node's exact bytes" }], "invalid_request");
    if (await this.blobs.has(treeKey(sha))) return;
    const node = parseNode("uploaded source", sha, data);
    const absent: string[] = [];
    if ("pages" in node) {
      absent.push(...(await this.missingTrees(node.pages.map(([, child]) => child))));
    } else {
      absent.push(...(await this.missingTrees(node.entries.filter((e) => e[1] === "d").map((e) => e[3]))));
      absent.push(...(await this.missing(node.entries.filter((e) => e[1] !== "d").map((e) => e[3]))));
    }
    if (absent.length) throw new SlipwayError("unknown_source", `tree node ${sha} names ${absent.length} file(s) or node(s) the server does not have`, { hint: "upload files first, then nodes, children before their parents", details: { missing: absent } });
    await this.blobs.put(treeKey(sha), data);
  }

  async putFile(sha: string, data: Buffer): Promise<void> {
    if (!HEX64.test(sha)) throw new InvalidInputError([{ message: `"${sha}" is not a sha256`, hint: "64 lowercase hex digits" }], "invalid_request");
    if (sha256(data) !== sha) throw new InvalidInputError([{ message: `the uploaded content does not have sha256 ${sha}`, hint: "upload the file's exact bytes" }], "invalid_request");
    if (!(await this.blobs.has(fileBlobKey(sha)))) await this.blobs.put(fileBlobKey(sha), data);
  }

  /** Stores a manifest whose files are all here, materialises it, and returns its hash and project name. */
  async putManifest(manifestJson: string): Promise<{ source: string; project: string }> {
    const hash = sha256(manifestJson);
    await this.blobs.put(bundleKey(hash), manifestJson);
    let manifest;
    try {
      manifest = await loadManifest(this.blobs, hash);
    } catch (e) {
      await this.blobs.delete(bundleKey(hash));
      throw e;
    }
    const absent = await this.missing(manifest.files.map((f) => f.sha256));
    if (absent.length) throw new SlipwayError("unknown_source", `${absent.length} file(s) of the source were not uploaded`, { hint: "upload them first (PUT /api/v1/sources/files/SHA256)", details: { missing: absent } });
    const dir = await this.materialise(hash);
    const project = projectName(dir);
    mkdirSync(join(this.root, "projects"), { recursive: true });
    const latest = join(this.root, "projects", `${project}.json`);
    writeFileSync(`${latest}.tmp`, JSON.stringify({ source: hash }));
    renameSync(`${latest}.tmp`, latest);
    return { source: hash, project };
  }

  /** The names of the projects the server has a source of, sorted. */
  async projects(): Promise<string[]> {
    const dir = join(this.root, "projects");
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .filter((n) => /^[a-z0-9][a-z0-9_-]*$/.test(n))
      .sort();
  }

  /** The folder of a project's source: the one named, else the latest uploaded for the project. */
  async dirFor(project: string, source?: string): Promise<string> {
    if (source === undefined) {
      const file = join(this.root, "projects", `${project}.json`);
      if (!/^[a-z0-9][a-z0-9_-]*$/.test(project) || !existsSync(file)) {
        throw new SlipwayError("unknown_project", `the server has no source of project ${project}`, { hint: "plan or deploy it with --server once (that uploads it)" });
      }
      source = (JSON.parse(readFileSync(file, "utf8")) as { source: string }).source;
    }
    if (!HEX64.test(source) || !(await this.blobs.has(bundleKey(source)))) throw new SlipwayError("unknown_source", `the server has no source ${source}`, { hint: "upload it first (POST /api/v1/sources)" });
    const dir = await this.materialise(source);
    let name = this.names.get(source);
    if (name === undefined) this.names.set(source, (name = projectName(dir)));
    if (name !== project) throw new InvalidInputError([{ message: `source ${source} is project ${name}, not ${project}`, hint: `use /api/v1/projects/${name}/…` }], "invalid_request");
    return dir;
  }

  private materialise(hash: string): Promise<string> {
    const dir = join(this.root, "trees", hash);
    const complete = `${dir}.complete`;
    if (existsSync(complete)) return Promise.resolve(dir);
    let pending = this.materialising.get(hash);
    if (!pending) {
      pending = (async () => {
        const tmp = `${dir}.${process.pid}.tmp`;
        rmSync(tmp, { recursive: true, force: true });
        await materializeBundle(this.blobs, hash, tmp);
        rmSync(dir, { recursive: true, force: true });
        renameSync(tmp, dir);
        writeFileSync(complete, "");
        return dir;
      })().finally(() => this.materialising.delete(hash));
      this.materialising.set(hash, pending);
    }
    return pending;
  }
}

function projectName(dir: string): string {
  let name: unknown;
  try {
    name = (parse(readFileSync(join(dir, "slipway.yaml"), "utf8")) as { project?: unknown } | null)?.project;
  } catch {
    name = undefined;
  }
  if (typeof name !== "string" || !/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new SlipwayError("project_not_found", "the uploaded source has no slipway.yaml with a valid `project:` name", { hint: "upload the project's folder (the one holding slipway.yaml)" });
  return name;
}
