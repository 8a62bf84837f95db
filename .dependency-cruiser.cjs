// Layers point down only. Each entry may import from itself and from entries before it, never after.
// `npm test` runs this check (scripts/check-layers.sh); docs/architecture.md draws the same picture.
const LAYERS = [
  ["src/util/", "src/error-codes.ts", "src/errors.ts", "src/clock.ts", "src/resources.ts"], // foundation: no Slipway imports beyond each other
  ["src/env.ts"],
  ["src/store/"], // state (SQLite, PostgreSQL) and blobs
  ["src/config/"], // the project-file language: YAML with positions, interpolation, slipway.yaml's schema
  ["src/engine/"], // plan, apply, leases, the provider contract
  ["src/bundles/"], // content-addressed file trees
  ["src/executors/"], // where runs execute
  ["src/registry/"], // model versions and aliases
  ["src/artifacts/"], // building and storing artifacts
  ["src/compute/"], // compute environments
  ["src/serving/"], // the gateway, runtimes, inference tables, serving control
  ["src/kinds/"], // one folder per resource kind, and the registry
  ["src/runs/"], // a run from submission to archive
  ["src/pipelines/"], // release pipelines at run time: the engine (stages, approvals, concurrency, after-triggers), notifications, git heads; stage effects are handed in by operations
  ["src/export/"], // compiled projects written for other platforms: Kubernetes manifests, Helm charts (pure: objects and text, no files written)
  ["src/operations/", "src/init/", "src/doctor/"], // what a user can do; init writes a project from a template, doctor checks machine, home and project
  ["src/views/"], // the public JSON documents of every command (the CLI and the HTTP API)
  ["src/server/"], // the control plane: the HTTP API, identity, permissions, the audit log, background work (schedules, TTLs, retention, lost runs), the composed server
  ["src/client/"], // the HTTP client of a server's API: calls, progress streams, uploading a project (remote CLI and SDK)
  ["src/cli/", "src/sdk/", "src/index.ts"], // the doors
];

const escape = (p) => p.replace(/[.]/g, "\\.");
const pattern = (paths) => `^(${paths.map(escape).join("|")})`;

const forbidden = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${i}-points-down`,
  comment: `${layer.join(", ")} may not import from a layer above it`,
  severity: "error",
  from: { path: pattern(layer) },
  to: { path: pattern(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...forbidden,
    { name: "no-cycles", comment: "no import cycles between modules of running code", severity: "error", from: {}, to: { circular: true } },
    {
      name: "cli-start-up-light",
      comment:
        "the CLI's command files import operations, servers, stores, views with schemas and heavy packages with `await import()` in the action, so a command evaluates only what it runs (docs/architecture.md, start-up; bench/startup)",
      severity: "error",
      from: { path: "^src/cli/" },
      to: {
        dynamic: false,
        path: "^(src/(operations|server|serving|store|runs|kinds|bundles|config|compute|artifacts|executors|registry|export|doctor|engine)/|src/pipelines/engine|src/views/(?!(envelope|error-view|plan-actions|countdown|progress|lazy)[.])|node_modules/(zod|kysely|yaml|better-sqlite3|hono|@hono|pg|tar|cron-parser)/)",
      },
    },
    { name: "layer-known", comment: "every source file belongs to a layer in .dependency-cruiser.cjs", severity: "error", from: { path: "^src/", pathNot: pattern(LAYERS.flat()) }, to: {} },
  ],
  options: {
    // Type-only imports are erased: the layers constrain running code. (Tests sit beside the code.)
    tsPreCompilationDeps: false,
    exclude: { path: "\\.test\\.ts$" },
    doNotFollow: { path: "node_modules" },
  },
};
