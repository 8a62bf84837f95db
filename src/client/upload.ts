// Uploading a scanned project (src/bundles/scan.ts) to the server as a content-addressed bundle, sending
// only what the server lacks. The server keeps a tree node only once everything below it is there, so
// the client walks the tree from the root, level by level, asking which nodes are missing; below a node
// the server has, nothing is asked or sent. Then it sends the missing files, the missing nodes (children
// before their parents) and the bundle record.
import { readFile } from "node:fs/promises";
import { parseNode, type SourceScan } from "../bundles/index.js";
import { SlipwayError } from "../errors.js";
import { runDag } from "../util/dag.js";
import { sha256 } from "../util/hash.js";
import type { RemoteClient } from "./api-client.js";

/** Ask about this many hashes per request (the API takes up to 200,000). */
const BATCH = 10_000;
const UPLOADS_AT_ONCE = 4;

export interface UploadResult {
  source: string;
  /** Files and tree nodes sent (the rest the server had). */
  files: number;
  nodes: number;
  bytes: number;
}

export async function uploadSource(client: RemoteClient, scan: SourceScan): Promise<UploadResult> {
  const built = scan.tree();
  const nodeData = new Map(built.nodes.map((n) => [n.hash, n.data]));
  const pathOf = new Map<string, string>(); // file sha256 -> a path holding it
  for (const f of scan.files) if (!pathOf.has(f.sha256)) pathOf.set(f.sha256, scan.paths.get(f.path)!);

  const missingNodes: string[] = []; // parents before children
  const missingFiles = new Set<string>();
  let frontier = [built.root];
  while (frontier.length) {
    const absent = await ask(client, "trees", frontier);
    const next = new Set<string>();
    const files = new Set<string>();
    for (const hash of absent) {
      missingNodes.push(hash);
      const node = parseNode("local source", hash, nodeData.get(hash)!);
      if ("pages" in node) for (const [, child] of node.pages) next.add(child);
      else for (const [, kind, , h] of node.entries) (kind === "d" ? next : files).add(h);
    }
    for (const sha of await ask(client, "files", [...files])) missingFiles.add(sha);
    frontier = [...next];
  }

  let bytes = 0;
  const sent = await runDag({
    nodes: [...missingFiles],
    key: (sha) => sha,
    limit: UPLOADS_AT_ONCE,
    run: async (sha) => {
      const data = await readFile(pathOf.get(sha)!);
      if (sha256(data) !== sha) throw new SlipwayError("source_changed", `${pathOf.get(sha)} changed while it was being uploaded`, { hint: "run the command again" });
      await client.fields("PUT", `/sources/files/${sha}`, { raw: data });
      bytes += data.length;
    },
  });
  if (sent.failed.length) throw sent.failed[0]!.error;
  for (const hash of missingNodes.reverse()) {
    const data = Buffer.from(nodeData.get(hash)!);
    await client.fields("PUT", `/sources/trees/${hash}`, { raw: data });
    bytes += data.length;
  }
  await client.fields("POST", "/sources", { body: { manifest: built.record.data } });
  return { source: built.record.hash, files: missingFiles.size, nodes: missingNodes.length, bytes };
}

async function ask(client: RemoteClient, what: "files" | "trees", hashes: string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < hashes.length; i += BATCH) {
    const doc = await client.fields("POST", "/sources/missing", { body: { [what]: hashes.slice(i, i + BATCH) } });
    out.push(...((what === "files" ? doc.missing : doc.missing_trees) as string[]));
  }
  return out;
}
