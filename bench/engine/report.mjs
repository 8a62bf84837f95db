#!/usr/bin/env node
// Turns the hyperfine exports of bench/engine/run.sh into markdown tables.
//   node bench/engine/report.mjs [out-dir=bench/out]
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] ?? "bench/out";
const meta = JSON.parse(readFileSync(join(out, "engine-meta.json"), "utf8"));
const sizes = meta.sizes.filter((s) => existsSync(join(out, `engine-${s.settings}.json`)));
const results = new Map(); // settings -> command name -> hyperfine result
for (const s of sizes) {
  const doc = JSON.parse(readFileSync(join(out, `engine-${s.settings}.json`), "utf8"));
  results.set(s.settings, new Map(doc.results.map((r) => [r.command, r])));
}

const ms = (sec) => (sec * 1000).toFixed(0);
const commands = ["node -e 0", "slipway --version", "validate", "plan (no-op)", "deploy (no-op)"];
const lines = [];

lines.push(`Machine: ${meta.nproc} cores (${meta.cpu}), ${meta.memory_gib} GiB, ${meta.os}; Node ${meta.node}; hyperfine ${meta.hyperfine}; ${meta.date.slice(0, 16).replace("T", " ")} UTC.`);
if (meta.loadavg_at_start) lines.push(`Load average when the run started: ${meta.loadavg_at_start.join(", ")} (1/5/15 min; other work on the machine shows up as noise).`);
if (meta.commit) lines.push(`Measured: commit ${meta.commit}, build ${meta.build}.`);
lines.push("");
lines.push("| resources | command | median (ms) | mean ± σ (ms) | min (ms) | max (ms) | runs |");
lines.push("|---:|---|---:|---:|---:|---:|---:|");
for (const s of sizes) {
  lines.push(`| ${s.resources.toLocaleString("en-US")} | first deploy (creates all, timed once) | ${s.first_deploy_ms} | | | | 1 |`);
  for (const c of commands) {
    const r = results.get(s.settings).get(c);
    if (!r) continue;
    lines.push(`| ${s.resources.toLocaleString("en-US")} | \`${c}\` | ${ms(r.median)} | ${ms(r.mean)} ± ${ms(r.stddev ?? 0)} | ${ms(r.min)} | ${ms(r.max)} | ${r.times.length} |`);
  }
}

// Growth between the smallest and the largest size.
if (sizes.length >= 2) {
  const a = sizes[0];
  const b = sizes[sizes.length - 1];
  const ra = results.get(a.settings);
  const rb = results.get(b.settings);
  const k = b.resources / a.resources;
  lines.push("");
  lines.push(`Growth from ${a.resources.toLocaleString("en-US")} to ${b.resources.toLocaleString("en-US")} resources (×${k.toFixed(2)}). ` +
    "\"Above start-up\" subtracts the median of `slipway --version` of the same run (Node start + loading the CLI's modules), " +
    "which is paid once whatever the size; linear growth shows as a ratio close to ×" + k.toFixed(1) + " there.");
  lines.push("");
  lines.push(`| command | median @${a.resources} (ms) | median @${b.resources} (ms) | ratio | above start-up @${a.resources} (ms) | above start-up @${b.resources} (ms) | ratio above start-up | marginal cost per resource (µs) |`);
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  const startA = ra.get("slipway --version")?.median ?? 0;
  const startB = rb.get("slipway --version")?.median ?? 0;
  const firstRow = { command: "first deploy (timed once)", ma: a.first_deploy_ms / 1000, mb: b.first_deploy_ms / 1000 };
  const rows = [firstRow, ...commands.filter((c) => ra.has(c) && rb.has(c)).map((c) => ({ command: `\`${c}\``, ma: ra.get(c).median, mb: rb.get(c).median }))];
  for (const { command, ma, mb } of rows) {
    const above = command.includes("node -e 0") || command.includes("--version");
    const xa = ma - startA;
    const xb = mb - startB;
    const marginal = ((mb - ma) / (b.resources - a.resources)) * 1e6;
    lines.push(`| ${command} | ${ms(ma)} | ${ms(mb)} | ×${(mb / ma).toFixed(2)} | ${above ? "–" : ms(xa)} | ${above ? "–" : ms(xb)} | ${above ? "–" : `×${(xb / xa).toFixed(1)}`} | ${marginal.toFixed(0)} |`);
  }
}
// How settings are spread over modules (same total): should not matter.
const shapeFile = join(out, "engine-shape.json");
if (existsSync(shapeFile)) {
  const shape = JSON.parse(readFileSync(shapeFile, "utf8")).results;
  lines.push("");
  lines.push("Same number of settings, spread differently (`validate` only; a flat cost means no per-module super-linear step):");
  lines.push("");
  lines.push("| command | median (ms) | mean ± σ (ms) | min (ms) | max (ms) | runs |");
  lines.push("|---|---:|---:|---:|---:|---:|");
  for (const r of shape) lines.push(`| ${r.command} | ${ms(r.median)} | ${ms(r.mean)} ± ${ms(r.stddev ?? 0)} | ${ms(r.min)} | ${ms(r.max)} | ${r.times.length} |`);
}
console.log(lines.join("\n"));
