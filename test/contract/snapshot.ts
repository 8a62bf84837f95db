// Snapshots of the --json documents: one file per command under test/contract/snapshots/, holding that
// command's cases by name. Every document is first validated against the command's schema (the same
// zod schema `slipway schema --output <command>` prints), then normalised (ids, times, paths, ports,
// pids, hashes, durations) and compared with its snapshot. UPDATE_SNAPSHOTS=1 rewrites the files.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { documentSchema, type CommandName } from "../../src/views/documents.js";
import { REPO, type Sandbox } from "../helpers/cli.js";

export const SNAPSHOTS = join(dirname(fileURLToPath(import.meta.url)), "snapshots");
export const UPDATE = process.env.UPDATE_SNAPSHOTS === "1";

export function snapshotFile(command: CommandName): string {
  return join(SNAPSHOTS, `${command.replaceAll(" ", "-")}.json`);
}

/** Numbers that differ from run to run, by key. */
const VOLATILE_NUMBERS = new Set(["duration_ms", "remaining_ms", "uptime_s", "ms", "latency_ms", "gateway_ms", "queue_ms", "model_ms", "pid", "port", "size", "bytes", "freed_bytes", "bytes_written", "offset", "restarts"]);

/** Replaces what differs between runs with placeholders; ids become <run-1>, <deployment-1>, … in order of appearance. */
export class Normaliser {
  private readonly ids = new Map<string, string>();
  private readonly counts = { r: 0, d: 0, p: 0, s: 0 };
  constructor(private readonly box: Sandbox) {}

  value(v: unknown, key?: string): unknown {
    if (typeof v === "number" && key && VOLATILE_NUMBERS.has(key)) return "<number>";
    if (typeof v === "string" && (key === "id" || key === "token_id") && /^[0-9a-f]{12}$/.test(v)) return "<token-id>";
    if (typeof v === "string") return key === "host" ? "<host>" : key === "owner" && /^[^:\s]+:\d+$/.test(v) ? "<host>:<pid>" : this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x, key === "pids" ? "pid" : undefined));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x, k)]));
    return v;
  }

  text(s: string): string {
    const root = dirname(this.box.home);
    return s
      .split(root).join("<root>")
      .split(REPO).join("<repo>")
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, "<time>")
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<uuid>")
      .replace(/\b[0-9a-f]{64}\b/g, "<sha256>")
      .replace(/\bswt_[A-Za-z0-9_-]+/g, "<token>")
      .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
      .replace(/\(pid \d+\)/g, "(pid <pid>)")
      .replace(/@[^\s@()]+ \(pid/g, (m) => (m.slice(1, -5) === hostname() ? "@<host> (pid" : m))
      .replace(/\b([rdps])m[0-9a-z]{8,13}\b/g, (id, prefix: "r" | "d" | "p" | "s") => {
        let name = this.ids.get(id);
        if (!name) this.ids.set(id, (name = `<${{ r: "run", d: "deployment", p: "pipeline-run", s: "sweep" }[prefix]}-${++this.counts[prefix]}>`));
        return name;
      });
  }
}

const produced = new Map<CommandName, Map<string, unknown>>();

/**
 * Checks one --json document of `command`: valid against its schema, equal (normalised) to the
 * snapshot case `name`. Returns the document as printed.
 */
export function expectDocument(command: CommandName, name: string, doc: unknown, normaliser: Normaliser): void {
  const parsed = documentSchema(command).safeParse(doc);
  assert.ok(parsed.success, `${command} (${name}) does not match its schema:\n${parsed.success ? "" : JSON.stringify(parsed.error.issues, null, 2)}\n${JSON.stringify(doc, null, 2)}`);
  const normal = normaliser.value(doc);
  let cases = produced.get(command);
  if (!cases) produced.set(command, (cases = new Map()));
  assert.ok(!cases.has(name), `snapshot case ${command} / ${name} is produced twice`);
  cases.set(name, normal);
  if (UPDATE) return;
  const file = snapshotFile(command);
  assert.ok(existsSync(file), `no snapshot file ${file}: run the contract tests with UPDATE_SNAPSHOTS=1`);
  const stored = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  assert.ok(name in stored, `${file} has no case "${name}": run the contract tests with UPDATE_SNAPSHOTS=1`);
  assert.deepEqual(normal, stored[name], `${command} --json (${name}) differs from its snapshot; if the change is intended, update with UPDATE_SNAPSHOTS=1 and note it in docs/cli.md`);
}

/** Call in after(): writes the snapshot files (UPDATE_SNAPSHOTS=1) or checks that no stored case went missing. */
export function finishSnapshots(commands: CommandName[]): void {
  for (const command of commands) {
    const cases = produced.get(command) ?? new Map<string, unknown>();
    const file = snapshotFile(command);
    if (UPDATE) {
      mkdirSync(SNAPSHOTS, { recursive: true });
      writeFileSync(file, JSON.stringify(Object.fromEntries(cases), null, 2) + "\n");
      continue;
    }
    const stored = existsSync(file) ? Object.keys(JSON.parse(readFileSync(file, "utf8")) as object) : [];
    assert.deepEqual([...cases.keys()].sort(), stored.sort(), `${file}: the cases produced differ from the stored ones (UPDATE_SNAPSHOTS=1 rewrites it)`);
  }
}

/** Runs `slipway ARGS --json` and checks the document; returns it (not normalised) with the exit code. */
export function jsonCase(box: Sandbox, normaliser: Normaliser, command: CommandName, name: string, args: string[], extraEnv?: NodeJS.ProcessEnv): { code: number; doc: any; stderr: string } {
  const r = box.json(args, extraEnv);
  expectDocument(command, name, r.doc, normaliser);
  const ok = (r.doc as { ok?: unknown }).ok;
  assert.equal(ok, r.code === 0, `"ok" must be true exactly when the exit code is 0 (exit ${r.code}):\n${r.stderr}`);
  return r;
}
