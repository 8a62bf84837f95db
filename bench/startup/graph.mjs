// Static (eager) graph from the CLI entry: what `node dist/cli.cjs` evaluates before main() runs.
import { build } from "esbuild";
const root = process.argv[2] ?? "/work/wt/startup";
const entry = process.argv[3] ?? "src/cli/main.ts";
const r = await build({ absWorkingDir: root, entryPoints: [entry], bundle: true, platform: "node", format: "cjs", target: "node20", write: false, metafile: true, outfile: "/tmp/su/x.cjs", external: ["better-sqlite3", "pg", "onnxruntime-node", "@aws-sdk/*"], define: { "import.meta.url": "__u" }, logLevel: "error" });
const inputs = r.metafile.inputs;
const seen = new Set(); const parentOf = new Map(); const stack = [entry];
while (stack.length) { const f = stack.pop(); if (seen.has(f)) continue; seen.add(f); for (const i of inputs[f]?.imports ?? []) if (i.kind === "import-statement" || i.kind === "require-call") { if (!seen.has(i.path)) { if (!parentOf.has(i.path)) parentOf.set(i.path, f); stack.push(i.path); } } }
const by = new Map(); let total = 0;
for (const f of seen) { const b = inputs[f]?.bytes ?? 0; total += b; const k = f.startsWith("node_modules/") ? f.split("/").slice(1, f.split("/")[1].startsWith("@") ? 3 : 2).join("/") : f.startsWith("src/") ? f.split("/").slice(0, 2).join("/") : f; by.set(k, (by.get(k) ?? 0) + b); }
console.log(`eager modules ${seen.size} of ${Object.keys(inputs).length}, ${(total/1024).toFixed(0)} KiB of ${(Object.values(inputs).reduce((a, x) => a + x.bytes, 0)/1024).toFixed(0)} KiB`);
for (const [k, b] of [...by].sort((a, b) => b[1] - a[1]).slice(0, +(process.argv[4] ?? 40))) console.log(`${(b/1024).toFixed(0).padStart(6)} KiB ${k}`);
const why = process.env.WHY; if (why) for (const f of seen) if (f.includes(why)) { let p = f; const chain = [p]; while (parentOf.has(p)) { p = parentOf.get(p); chain.push(p); } console.log("why", chain.join(" <- ")); break; }
