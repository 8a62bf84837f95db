// Revision snapshots that share what did not change, as git shares trees. Format 2:
//
//   revisions/n/<ref>   a node of the revision's trie (gzipped JSON): a leaf holds up to 8 recorded
//                       resources; an inner node lists up to 16 children, chosen by the next hex digit
//                       of sha256(address)
//   snapshots/<state hash>.v2.json.gz   the root: project, target, extras (variables, rolled_back_to),
//                       the resource count and the trie's top node
//
// The trie's shape depends only on the set of addresses, so one changed resource writes its leaf, the
// nodes on its path (about log16(N/8) of them) and a new root; every other node is the previous
// revision's. Records sit in their leaves rather than in blobs of their own: a first deploy of 10,000
// resources writes about 4,000 nodes instead of 14,000 blobs (one per record and node), and a
// rollback reads as few. A ref is the first 128 bits of the sha256 of the node's JSON, base64url:
// inner nodes are mostly refs, and 22 characters instead of 64 keep a changed path under 2 KB at
// 1,000 resources.
// Format 1 (`snapshots/<state hash>.json.gz`, every resource inline) is still read.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { RecordedResource } from "../resources.js";
import { SlipwayError } from "../errors.js";
import type { BlobStore } from "./blobs/blob-store.js";

export interface Snapshot {
  project: string;
  target: string;
  resources: RecordedResource[];
  [extra: string]: unknown;
}

type Ref = string;
type Leaf = { l: RecordedResource[] };
type Inner = { c: Record<string, Ref> };
type Node = Leaf | Inner;

/** A node holding more entries than this is split into up to 16 children. */
const LEAF_MAX = 8;
const FORMAT2 = /\.v2\.json\.gz$/;

function refOf(json: string): Ref {
  return createHash("sha256").update(json).digest().subarray(0, 16).toString("base64url");
}

const addressDigest = (address: string) => createHash("sha256").update(address).digest("hex");

/** Stores `value` under its ref unless it is there; returns the ref. */
async function put(blobs: BlobStore, value: Node): Promise<Ref> {
  const json = JSON.stringify(value);
  const ref = refOf(json);
  const key = `revisions/n/${ref}`;
  if (!(await blobs.has(key))) await blobs.put(key, gzipSync(json));
  return ref;
}

async function read(blobs: BlobStore, ref: Ref): Promise<Node> {
  const data = await blobs.get(`revisions/n/${ref}`);
  if (!data) throw new SlipwayError("snapshot_missing", `part of a revision (revisions/n/${ref}) is missing from the blob store`, { hint: "it may have been deleted by hand; that revision cannot be restored" });
  return JSON.parse(gunzipSync(data).toString("utf8")) as Node;
}

type Entry = { digest: string; record: RecordedResource };

async function putTree(blobs: BlobStore, entries: Entry[], depth: number): Promise<Ref> {
  if (entries.length <= LEAF_MAX || depth >= 64) {
    return put(blobs, { l: entries.map((e) => e.record) });
  }
  const buckets = new Map<string, Entry[]>();
  for (const e of entries) {
    const digit = e.digest[depth]!;
    let b = buckets.get(digit);
    if (!b) buckets.set(digit, (b = []));
    b.push(e);
  }
  const children: Record<string, Ref> = {};
  const digits = [...buckets.keys()].sort();
  const refs = await Promise.all(digits.map((d) => putTree(blobs, buckets.get(d)!, depth + 1)));
  digits.forEach((d, i) => (children[d] = refs[i]!));
  return put(blobs, { c: children });
}

async function readTree(blobs: BlobStore, ref: Ref, out: RecordedResource[]): Promise<void> {
  const node = await read(blobs, ref);
  if ("l" in node) out.push(...node.l);
  else await Promise.all(Object.values(node.c).map((child) => readTree(blobs, child, out)));
}

/** Writes a snapshot (format 2) under its state hash; returns its blob key. Writing the same state twice writes nothing. */
export async function writeSnapshot(blobs: BlobStore, stateHash: string, snapshot: Snapshot): Promise<string> {
  const key = `snapshots/${stateHash}.v2.json.gz`;
  if (await blobs.has(key)) return key;
  const { resources, ...rest } = snapshot;
  const entries: Entry[] = resources.map((r) => ({ digest: addressDigest(r.address), record: r }));
  const tree = await putTree(blobs, entries, 0);
  await blobs.put(key, gzipSync(JSON.stringify({ ...rest, format: 2, count: resources.length, tree })));
  return key;
}

/** Reads a snapshot of either format, its resources in the order they were recorded (by address). */
export async function readSnapshot(blobs: BlobStore, key: string): Promise<Snapshot> {
  const data = await blobs.get(key);
  if (!data) throw new SlipwayError("snapshot_missing", `the snapshot ${key} is missing from the blob store`, { hint: "it may have been deleted by hand; that revision cannot be restored" });
  const doc = JSON.parse(gunzipSync(data).toString("utf8")) as Snapshot & { format?: number; tree?: Ref; count?: number };
  if (!FORMAT2.test(key)) return doc;
  const { format: _f, tree, count: _c, ...rest } = doc;
  const resources: RecordedResource[] = [];
  await readTree(blobs, tree!, resources);
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { ...rest, resources } as Snapshot;
}
