#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, top Slipway
// functions by inclusive time, and self time grouped by package. Frames in a bundled, minified file
// (dist/cli.cjs) are mapped back to their original file:line and name through its source map.
//   node bench/engine/profile-summary.mjs <file.cpuprofile> [top=25]
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [file, topArg = "25"] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/engine/profile-summary.mjs <file.cpuprofile> [top]");
  process.exit(2);
}
const top = Number(topArg);
const prof = JSON.parse(readFileSync(file, "utf8"));
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// url -> SourceMap | null
const maps = new Map();
function sourceMapFor(url) {
  if (maps.has(url)) return maps.get(url);
  let map = null;
  try {
    if (url.startsWith("file://")) {
      const path = fileURLToPath(url);
      const text = readFileSync(path, "utf8");
      const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text.slice(-500));
      const mapPath = m && !m[1].startsWith("data:") ? resolve(dirname(path), m[1]) : `${path}.map`;
      if (existsSync(mapPath)) map = new SourceMap(JSON.parse(readFileSync(mapPath, "utf8")));
    }
  } catch {
    map = null;
  }
  maps.set(url, map);
  return map;
}
// Original position of a frame: { url, line (0-based), name }.
const origins = new Map();
function origin(n) {
  if (origins.has(n.id)) return origins.get(n.id);
  const f = n.callFrame;
  let o = { url: f.url, line: f.lineNumber, name: f.functionName };
  const map = f.url && f.lineNumber >= 0 ? sourceMapFor(f.url) : null;
  if (map) {
    const e = map.findOrigin(f.lineNumber + 1, f.columnNumber + 1);
    if (e && e.fileName) {
      const file = e.fileName.replace(/^(\.\.\/)+/, "");
      o = { url: file, line: e.lineNumber - 1, name: e.name || f.functionName };
    }
  }
  origins.set(n.id, o);
  return o;
}

const short = (url) => {
  if (!url) return "";
  const u = url.replace(/^file:\/\//, "");
  const nm = u.lastIndexOf("node_modules/");
  if (nm >= 0) return u.slice(nm + "node_modules/".length);
  if (u.startsWith("src/")) return u;
  const d = u.indexOf("/dist/");
  if (d >= 0) return u.slice(d + 1);
  return u;
};
const label = (n) => {
  const o = origin(n);
  const where = o.url ? `${short(o.url)}:${o.line + 1}` : "";
  return `${o.name || "(anonymous)"}${where ? ` ${where}` : ""}`;
};
const group = (n) => {
  const u = origin(n).url;
  if (!u) return n.callFrame.functionName.startsWith("(") ? n.callFrame.functionName : "(native/builtin)";
  if (u.startsWith("node:")) return "node internals";
  const nm = u.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = u.slice(nm + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (u.includes("/dist/")) return "slipway dist/" + u.slice(u.indexOf("/dist/") + 6).split("/")[0];
  if (u.startsWith("src/")) return "slipway " + u.split("/").slice(0, 2).join("/");
  return "other";
};

const self = new Map();
const incl = new Map();
const groups = new Map();
let total = 0;
const deltas = prof.timeDeltas;
prof.samples.forEach((id, i) => {
  const dt = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000; // ms; delta i+1 is the time this sample lasted
  total += dt;
  const n = nodes.get(id);
  const key = label(n);
  self.set(key, (self.get(key) ?? 0) + dt);
  groups.set(group(n), (groups.get(group(n)) ?? 0) + dt);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = label(nodes.get(cur));
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
});

const pct = (v) => ((100 * v) / total).toFixed(1).padStart(5);
const row = (v, k) => `${v.toFixed(0).padStart(7)} ms ${pct(v)}%  ${k}`;
console.log(`${file}\nsampled ${total.toFixed(0)} ms\n`);
console.log("== self time by package");
for (const [k, v] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(row(v, k));
console.log(`\n== top ${top} functions by self time`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(row(v, k));
console.log(`\n== top ${top} Slipway functions (src/, dist/) by inclusive time`);
for (const [k, v] of [...incl].filter(([k]) => / (src|dist)\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(row(v, k));
