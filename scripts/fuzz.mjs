#!/usr/bin/env node
// Fuzzing Slipway from its own JSON Schema. Each seed generates a random project — valid, or
// near-valid (one or two mutations: a missing key, a misspelled key, a wrong type, a broken
// reference, broken YAML) — from `slipway schema`, writes it to a temp folder and runs it through the
// real CLI with a temp SLIPWAY_HOME: validate, plan, deploy, plan, destroy, status. It checks:
//   - no internal error and no stack trace, ever; exit codes in {0, 1, 2, 3};
//   - invalid input is exit 2 with diagnostics that have a message (and file:line:column when they
//     name a file);
//   - a project the generator made valid validates, and (when it needs no real services) deploys;
//   - after a deploy, plan shows nothing to do (no drift);
//   - after destroy, status shows no resources and settings are gone.
// A failure is a bug (or a generator bug), never flakiness: the same seed makes the same project.
//
//   node scripts/fuzz.mjs --seed 42            one seed, verbose; keeps the folder on failure
//   node scripts/fuzz.mjs --count 200 [--from 1]   many seeds (also: SLIPWAY_FUZZ_SEED=42 npm run fuzz)
//   node scripts/fuzz.mjs --seed 42 --print    print the generated files only
//
// The generator follows the schema for shapes, types, enums and patterns; a small table of
// overrides (OVERRIDES below) gives meaning the schema cannot express: references between resources,
// safe commands, files that must exist, storage kept inside the temp folder.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = join(REPO, "bin", "slipway.cjs");

// ---------------------------------------------------------------------------------------------
// A small seeded PRNG (mulberry32) and helpers

export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    shuffle: (list) => {
      const out = [...list];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
  return r;
}

// ---------------------------------------------------------------------------------------------
// Strings from the regular expressions the schema uses (a subset: classes, groups, alternation,
// quantifiers, \d \w \s and escapes; anchors are ignored)

function parseRegex(src) {
  let i = 0;
  const parseAlt = () => {
    const options = [parseSeq()];
    while (src[i] === "|") {
      i++;
      options.push(parseSeq());
    }
    return { alt: options };
  };
  const parseSeq = () => {
    const items = [];
    while (i < src.length && src[i] !== "|" && src[i] !== ")") {
      let atom;
      const c = src[i];
      if (c === "^" || c === "$") {
        i++;
        continue;
      }
      if (c === "(") {
        i++;
        if (src[i] === "?" && src[i + 1] === ":") i += 2;
        atom = parseAlt();
        i++; // ")"
      } else if (c === "[") {
        atom = parseClass();
      } else if (c === "\\") {
        atom = escapeAtom(src[i + 1]);
        i += 2;
      } else if (c === ".") {
        atom = { chars: printable() };
        i++;
      } else {
        atom = { chars: [c] };
        i++;
      }
      let min = 1;
      let max = 1;
      const q = src[i];
      if (q === "*") [min, max, i] = [0, 6, i + 1];
      else if (q === "+") [min, max, i] = [1, 6, i + 1];
      else if (q === "?") [min, max, i] = [0, 1, i + 1];
      else if (q === "{") {
        const end = src.indexOf("}", i);
        const [a, b] = src.slice(i + 1, end).split(",");
        min = Number(a);
        max = b === undefined ? min : b === "" ? min + 6 : Number(b);
        i = end + 1;
      }
      items.push({ atom, min, max });
    }
    return { seq: items };
  };
  const parseClass = () => {
    i++; // "["
    let negate = false;
    if (src[i] === "^") {
      negate = true;
      i++;
    }
    const set = new Set();
    let first = true;
    while (src[i] !== "]" || first) {
      first = false;
      let c = src[i];
      if (c === "\\") {
        const e = escapeAtom(src[i + 1]);
        i += 2;
        e.chars.forEach((x) => set.add(x));
        continue;
      }
      i++;
      if (src[i] === "-" && src[i + 1] !== "]") {
        const to = src[i + 1];
        i += 2;
        for (let x = c.charCodeAt(0); x <= to.charCodeAt(0); x++) set.add(String.fromCharCode(x));
      } else set.add(c);
    }
    i++; // "]"
    const chars = negate ? printable().filter((c) => !set.has(c)) : [...set];
    return { chars };
  };
  return parseAlt();
}

function escapeAtom(c) {
  if (c === "d") return { chars: "0123456789".split("") };
  if (c === "w") return { chars: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_".split("") };
  if (c === "s") return { chars: [" "] };
  return { chars: [c] };
}

function printable() {
  return Array.from({ length: 95 }, (_, k) => String.fromCharCode(32 + k));
}

const regexCache = new Map();
export function sampleRegex(r, pattern, maxLength = 24) {
  let tree = regexCache.get(pattern);
  if (!tree) regexCache.set(pattern, (tree = parseRegex(pattern)));
  const gen = (node) => {
    if (node.alt) return gen(r.pick(node.alt));
    if (node.seq) return node.seq.map(({ atom, min, max }) => Array.from({ length: r.int(min, max) }, () => gen(atom)).join("")).join("");
    return r.pick(node.chars);
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const s = gen(tree);
    if (s.length <= maxLength && new RegExp(pattern).test(s)) return s;
  }
  return gen(tree).slice(0, maxLength);
}

// ---------------------------------------------------------------------------------------------
// Values from a JSON Schema

const WORDS = ["alpha", "beta", "core", "data", "ml", "train", "score", "x", "main", "dev", "eu-west", "v2", "ünïcode", "日本", "🙂", "a b", "C:\\path", "quote'd", 'dq"x', "#hash", "key: value", "- dash", "yes", "null", "0x1F", "1e3", "~", "$HOME", "%s"];

function randomString(r, schema) {
  if (schema.pattern) return sampleRegex(r, schema.pattern, Math.min(schema.maxLength ?? 24, 40));
  const min = schema.minLength ?? 0;
  let s = Array.from({ length: r.int(1, 3) }, () => r.pick(WORDS)).join(r.pick(["_", "-", " ", ""]));
  if (r.chance(0.05)) s = "x".repeat(r.int(200, 3000));
  while (s.length < min) s += "x";
  if (schema.maxLength && s.length > schema.maxLength) s = s.slice(0, schema.maxLength);
  return s;
}

function typesOf(schema) {
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  return ["string"];
}

/** A value for `schema`; `path` is the list of keys from the document root (for OVERRIDES). */
export function sample(r, schema, path, ctx) {
  const o = override(r, path, ctx, schema);
  if (o !== undefined) return o === OMIT ? undefined : o;
  if (schema.oneOf || schema.anyOf) return sample(r, r.pick(schema.oneOf ?? schema.anyOf), path, ctx);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return r.pick(schema.enum);
  const type = r.pick(typesOf(schema));
  switch (type) {
    case "object": {
      const out = {};
      const required = new Set(schema.required ?? []);
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if (!required.has(key) && !r.chance(LIKELY[[...path, key].join("/")] ?? ctx.optional ?? 0.4)) continue;
        const v = sample(r, sub, [...path, key], ctx);
        if (v !== undefined) out[key] = v;
      }
      if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        const least = Math.max(schema.minProperties ?? 0, path.length === 1 && path[0] === "targets" ? 1 : 0);
        const n = r.int(least, Math.max(least, ctx.maxEntries ?? 3));
        for (let k = 0; k < n; k++) {
          const key = String(keyFor(r, path, schema.propertyNames ?? {}, ctx));
          if (key in out) continue;
          const v = sample(r, schema.additionalProperties, [...path, key], ctx);
          if (v !== undefined) out[key] = v;
        }
      }
      return out;
    }
    case "array": {
      const n = r.int(schema.minItems ?? 0, Math.max(schema.minItems ?? 0, 3));
      return Array.from({ length: n }, (_, k) => sample(r, schema.items ?? {}, [...path, k], ctx)).filter((v) => v !== undefined);
    }
    case "string":
      return randomString(r, schema);
    case "integer": {
      const lo = Math.max(schema.minimum ?? (schema.exclusiveMinimum ?? -1) + 1, -1000);
      const hi = Math.min(schema.maximum ?? lo + 10, lo + 10);
      return r.int(lo, hi);
    }
    case "number": {
      const lo = schema.minimum ?? schema.exclusiveMinimum ?? 0;
      const hi = schema.maximum ?? lo + 8;
      const v = Math.round((lo + r.next() * (hi - lo)) * 100) / 100;
      return schema.exclusiveMinimum !== undefined && v <= schema.exclusiveMinimum ? lo + 0.5 : v;
    }
    case "boolean":
      return r.chance(0.5);
    case "null":
      return null;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Meaning the schema cannot express

const OMIT = Symbol("omit");
/** How likely an optional key is, where 0.4 would make projects too sparse. */
const LIKELY = { variables: 0.7, hooks: 0.6, settings: 0.8, resources: 0.9, "resources/jobs": 0.7, "resources/models": 0.6, "resources/schedules": 0.4, "resources/artifacts": 0.3, "resources/pipelines": 0.3 };
const SAFE_COMMANDS = ["true", "echo fuzz", "echo \"$SLIPWAY_TARGET\"", "exit 0", ":"];
const CRONS = ["0 2 * * *", "*/5 * * * *", "30 4 1 * *", "0 0 * * 0"];
const last = (path, n = 1) => path[path.length - n];

function keyFor(r, path, namesSchema, ctx) {
  const where = path.join("/");
  // Names shared across a project are drawn from small pools, so references between them can hit.
  if (/^resources\/models$/.test(where)) return r.pick(ctx.pool.models);
  if (/^resources\/jobs$/.test(where)) return r.pick(ctx.pool.jobs);
  if (/^resources\/endpoints$/.test(where)) return sampleRegex(r, "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", 20);
  if (/^resources\/artifacts$/.test(where)) return r.pick(ctx.pool.artifacts);
  if (/^variables$/.test(where)) return r.pick(ctx.pool.variables);
  if (/\/variables$/.test(where) && path[0] === "targets") return r.pick(ctx.pool.variables);
  if (/^targets$/.test(where)) return r.pick(ctx.pool.targets);
  if (/tasks$/.test(where)) return r.pick(["prepare", "score", "report", "train"]);
  if (/(env|params)$/.test(where) && r.chance(0.2)) return r.pick(["__proto__", "constructor", "prototype", "PATH_EXTRA", "ünï"]);
  if (/^settings$/.test(where) && r.chance(0.2)) return r.pick(["__proto__", "constructor", "toString", "ключ", "a.b", "x y"]);
  return randomString(r, namesSchema);
}

function override(r, path, ctx, schema) {
  const where = path.join("/");
  const key = last(path);
  if (ctx.file === "project") {
    if (where === "include") return ["modules/*/module.yaml"];
    if (where === "project") return sampleRegex(r, "^[a-z0-9][a-z0-9_-]*$", 30);
    if (/^targets\/[^/]+\/(state|blobs|executor)$/.test(where)) return r.chance(0.15) ? (key === "executor" ? { type: "local", max_parallel_runs: r.int(1, 4) } : { type: "sqlite" === key ? "sqlite" : key === "state" ? "sqlite" : "fs" }) : OMIT;
    // Endpoints on Kubernetes need a cluster (and namespace, image): local serving or none.
    if (/^targets\/[^/]+\/serving$/.test(where)) return r.chance(0.15) ? { type: "local" } : OMIT;
    if (/archives$/.test(where)) return OMIT; // storage locations: never let a fuzzer write outside its folder
    if (/^targets\/[^/]+\/env_files$/.test(where)) return r.chance(0.5) ? ["site.env"] : OMIT;
    if (/^targets\/[^/]+\/default$/.test(where)) return OMIT; // set once below
    // A target's ttl starts a clock the server acts on: a generated "2ms" destroys the target between
    // deploy and the drift check. Long ones only (the ttl tests cover expiry with a moved clock).
    if (/^targets\/[^/]+\/ttl$/.test(where)) return r.pick(["24h", { after: "30d" }, OMIT]);
    if (/^targets\/[^/]+\/variables\/[^/]+$/.test(where)) return r.pick(["t1", 42, true, "${target.name}-x"]);
    if (/^variables\/[^/]+$/.test(where)) return { ...sample(r, schema, [...path, "_"], { ...ctx, file: "none" }), default: r.pick(["v", "${target.name}", "${project.name}_${user}", 7, false]) };
    if (/^variables\/[^/]+\/default$/.test(where)) return r.pick(["v", "${target.name}", "${project.name}_${user}", 7, false, "x".repeat(r.int(1, 80))]);
    if (/^variables\/[^/]+\/secret$/.test(where)) return r.chance(0.2);
  }
  if (ctx.file === "module") {
    if (where === "module") return ctx.moduleName;
    if (where === "depends_on") return ctx.earlierModules.length ? r.shuffle(ctx.earlierModules).slice(0, r.int(0, ctx.earlierModules.length)) : OMIT;
    if (key === "phase") return r.chance(0.7) ? OMIT : r.int(0, 2);
    if (/^hooks\/\d+\/name$/.test(where)) return `h${path[1]}`;
    if (/^hooks\/\d+\/(deploy|destroy)$/.test(where)) {
      const file = `${key}-${path[1]}.sh`;
      ctx.scripts.add(file);
      return file;
    }
    if (/^settings\/[^/]+$/.test(where) && r.chance(0.3)) return r.pick(["${var." + r.pick(ctx.pool.variables) + "}", "${module.name}", "${target.name}", "$${literal}"]);
    if (/\/command$/.test(where)) return r.pick(SAFE_COMMANDS);
    if (/^resources\/jobs\/[^/]+\/source$/.test(where)) return ctx.dirs.add("src"), "src";
    if (/^resources\/jobs\/[^/]+\/run_on_deploy$/.test(where)) return OMIT; // would start background runs
    // Output globs: a string that is a valid glob relative to the output folder (no "\\", "..", leading "/" or "!").
    if (/^resources\/jobs\/[^/]+\/(tasks\/[^/]+\/)?artifacts$/.test(where)) return r.chance(0.5) ? [r.pick(["reports/*.html", "model/**", "metrics.json"])] : OMIT;
    if (/^resources\/jobs\/[^/]+\/registers\/model$/.test(where)) return r.pick(ctx.pool.models);
    if (/^resources\/jobs\/[^/]+\/registers\/path$/.test(where)) return "model";
    if (/^resources\/jobs\/[^/]+\/compute\/environment$/.test(where)) return r.pick(ctx.pool.computes);
    if (/^resources\/jobs\/[^/]+\/tasks\/[^/]+\/depends_on$/.test(where)) return OMIT;
    if (/^resources\/schedules\/[^/]+\/job$/.test(where) || /^resources\/pipelines\/[^/]+\/stages\/\d+\/job$/.test(where)) return r.pick(ctx.pool.jobs);
    if (/cron$/.test(where)) return r.pick(CRONS);
    if (/timezone$/.test(where)) return r.pick(["UTC", "Europe/Paris", OMIT]);
    if (/^resources\/pipelines\/[^/]+\/stages\/\d+\/target$/.test(where)) return r.pick(ctx.pool.targets);
    if (/^resources\/pipelines\/[^/]+\/stages\/\d+\/depends_on$/.test(where)) return OMIT;
    if (/^resources\/endpoints\/[^/]+\/served$/.test(where)) {
      return [{ model: r.pick(ctx.pool.models), percent: 100 }];
    }
    if (/^resources\/endpoints\/[^/]+\/replicas$/.test(where)) return OMIT;
    if (/^resources\/artifacts\/[^/]+\/path$/.test(where)) return ctx.dirs.add("pkg"), "pkg";
    if (/^resources\/artifacts\/[^/]+\/version$/.test(where)) return OMIT;
    if (/^resources\/artifacts\/[^/]+\/python$/.test(where)) return OMIT;
    if (/^resources\/compute$/.test(where)) return r.chance(0.15) ? undefined : OMIT; // virtual environments: real Python, slow
    if (/^resources\/compute\/[^/]+\/(python|libraries|pip)$/.test(where)) return OMIT;
    if (/^resources\/endpoints$/.test(where) && !r.chance(0.2)) return OMIT;
    // Apps need a real web server that answers its health path (test/integration/apps.test.ts and the app invariant project cover them).
    if (/^resources\/apps$/.test(where)) return OMIT;
  }
  // A target's notification channels need exactly one of webhook or email, with a URL or addresses (what the JSON Schema cannot say).
  if (/^targets\/[^/]+\/notifications$/.test(where)) return OMIT;
  if (/permissions$/.test(where) && !r.chance(0.3)) return OMIT;
  if (/permissions\/\d+$/.test(where)) {
    // Exactly one of user, group, service_principal (a rule the JSON Schema cannot say).
    const who = r.pick(["user", "group", "service_principal"]);
    return { level: r.pick(schema.properties.level.enum), [who]: r.chance(0.3) ? "${user}" : sampleRegex(r, schema.properties[who].pattern, 20) };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Near-valid: mutations of a valid document, then of its text

function allPaths(value, path = [], out = []) {
  out.push(path);
  if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) allPaths(v, [...path, Array.isArray(value) ? Number(k) : k], out);
  return out;
}
function getAt(root, path) {
  return path.reduce((v, k) => (v == null ? undefined : v[k]), root);
}
function setAt(root, path, value) {
  const parent = getAt(root, path.slice(0, -1));
  if (parent && typeof parent === "object") {
    if (value === OMIT) Array.isArray(parent) ? parent.splice(last(path), 1) : delete parent[last(path)];
    else parent[last(path)] = value;
  }
}

const VALUE_MUTATIONS = [
  ["remove a key", (r, doc, p) => setAt(doc, p, OMIT)],
  ["misspell a key", (r, doc, p) => {
    const parent = getAt(doc, p.slice(0, -1));
    if (parent && !Array.isArray(parent)) {
      const v = parent[last(p)];
      delete parent[last(p)];
      parent[String(last(p)).replace(/[aeiou]/, "") + r.pick(["s", "_", "x"])] = v;
    }
  }],
  ["wrong type", (r, doc, p) => setAt(doc, p, r.pick([[1, 2], { a: 1 }, 3.5, true, null, "text"]))],
  ["unknown reference", (r, doc, p) => typeof getAt(doc, p) === "string" && setAt(doc, p, `${getAt(doc, p)}_nope`)],
  ["bad interpolation", (r, doc, p) => typeof getAt(doc, p) === "string" && setAt(doc, p, r.pick(["${var.undeclared}", "${oops", "${env.SLIPWAY_FUZZ_UNSET}", "${module.name}"]))],
  ["huge string", (r, doc, p) => setAt(doc, p, "y".repeat(r.int(300, 5000)))],
  ["odd key", (r, doc, p) => {
    const v = getAt(doc, p);
    if (v && typeof v === "object" && !Array.isArray(v)) v[r.pick(["__proto__", "constructor", "", " ", "a\u0000b", "ü".repeat(300), "<<", "${var.x}"])] = r.pick(["x", 1, {}]);
  }],
];

const TEXT_MUTATIONS = [
  ["truncate", (r, t) => t.slice(0, r.int(0, t.length))],
  ["tab indent", (r, t) => t.replace(/\n {2}/, "\n\t")],
  ["duplicate a line", (r, t) => {
    const lines = t.split("\n");
    const k = r.int(0, Math.max(0, lines.length - 2));
    lines.splice(k, 0, lines[k]);
    return lines.join("\n");
  }],
  ["unknown tag", (r, t) => t.replace(/: (\S)/, ": !!js/function $1")],
  ["alias", (r, t) => `${t}\nextra: &a [1, 2]\nmore: *a\n`],
  ["stray bracket", (r, t) => {
    const k = r.int(0, t.length);
    return `${t.slice(0, k)}${r.pick(["[", "{", "}", '"', "'", ":", "- ", "&", "*"])}${t.slice(k)}`;
  }],
];

// ---------------------------------------------------------------------------------------------
// Projects

/**
 * The project for `seed`: { files: {path: content}, valid, deployable, mutations }. `valid` is what
 * the generator intends (no mutation applied); `deployable` also means it needs no real services.
 */
export function generateProject(seed, schema) {
  const r = rng(seed);
  const [projectSchema, moduleSchema] = schema.oneOf;
  const pool = {
    models: ["clf", "ranker", "Emb.v2"],
    jobs: ["train", "score", "etl_1"],
    artifacts: ["lib", "tools"],
    computes: ["py"],
    variables: ["catalog", "region", "__proto__", "constructor", "n"],
    targets: ["dev", "qa", "prod"],
  };
  const base = { pool, optional: 0.4, maxEntries: 3, scripts: new Set(), dirs: new Set() };
  const project = sample(r, projectSchema, [], { ...base, file: "project" });
  project.include = ["modules/*/module.yaml"];
  const targetNames = Object.keys(project.targets ?? {});
  if (targetNames.length) project.targets[r.pick(targetNames)].default = true;
  // Declared variables are the ones targets and modules may use.
  const declared = new Set(Object.keys(project.variables ?? {}));
  for (const t of Object.values(project.targets ?? {})) {
    if (t?.variables) for (const v of Object.keys(t.variables)) if (!declared.has(v)) delete t.variables[v];
  }
  pool.variables = declared.size ? [...declared] : ["catalog"];
  if (!declared.size) {
    project.variables = { catalog: { default: "main" } };
  }
  pool.targets = targetNames.length ? targetNames : ["dev"];

  const files = {};
  let protectedTarget = false;
  const defaultTarget = targetNames.find((t) => project.targets[t]?.default);
  if (defaultTarget && project.targets[defaultTarget].protected) protectedTarget = true;
  if (Object.values(project.targets ?? {}).some((t) => t?.env_files)) files["site.env"] = "SITE=1\nconstructor=c\n";
  if (r.chance(0.3)) files["application.env"] = "APP=1\n__proto__=p\n";

  const moduleNames = r.shuffle(["core", "features", "serving", "extra_1"]).slice(0, r.int(1, 3));
  const modules = {};
  moduleNames.forEach((name, index) => {
    const ctx = { ...base, file: "module", moduleName: name, earlierModules: moduleNames.slice(0, index), scripts: new Set(), dirs: new Set() };
    const doc = sample(r, moduleSchema, [], ctx);
    modules[name] = doc;
    // Names are unique in a project: later modules drop what an earlier one declared.
    for (const [section, entries] of Object.entries(doc.resources ?? {})) {
      for (const n of Object.keys(entries ?? {})) {
        for (const other of moduleNames.slice(0, index)) if (modules[other]?.resources?.[section]?.[n]) delete entries[n];
      }
    }
    for (const script of ctx.scripts) {
      files[`modules/${name}/${script}`] = `#!/usr/bin/env bash\nset -eu\necho "${script} of ${name} in $SLIPWAY_TARGET"\n`;
    }
    if (ctx.dirs.has("src")) files[`modules/${name}/src/main.py`] = "print('hello')\n";
    if (ctx.dirs.has("pkg")) files[`modules/${name}/pkg/README`] = "package\n";
    if (r.chance(0.2)) files[`modules/${name}/module.env`] = "MOD=1\nprototype=q\n";
  });
  fixReferences(modules, pool);
  // Endpoints and compute environments need registered models and Python: checked, not deployed.
  const needsServices = Object.values(modules).some((m) => Object.keys(m.resources?.endpoints ?? {}).length || Object.keys(m.resources?.compute ?? {}).length);

  // Near-valid: half the seeds get one or two mutations.
  const mutations = [];
  const docs = [["slipway.yaml", project], ...moduleNames.map((n) => [`modules/${n}/module.yaml`, modules[n]])];
  const textMutations = new Map();
  if (r.chance(0.5)) {
    for (let k = r.int(1, 2); k > 0; k--) {
      const [file, doc] = r.pick(docs);
      if (r.chance(0.75)) {
        const paths = allPaths(doc).filter((p) => p.length > 0);
        const p = r.pick(paths);
        const [what, mutate] = r.pick(VALUE_MUTATIONS);
        mutate(r, doc, p);
        mutations.push(`${file}: ${what} at ${p.join(".")}`);
      } else {
        const [what, mutate] = r.pick(TEXT_MUTATIONS);
        textMutations.set(file, [...(textMutations.get(file) ?? []), mutate]);
        mutations.push(`${file}: ${what}`);
      }
    }
  }
  for (const [file, doc] of docs) {
    let text = stringify(doc, { lineWidth: 0 });
    for (const mutate of textMutations.get(file) ?? []) text = mutate(r, text);
    files[file] = text;
  }
  const phased = Object.entries(files).some(([f, t]) => f.endsWith(".yaml") && /\bphase: [1-9]/.test(t));
  return { seed, files, valid: mutations.length === 0 && targetNames.length > 0, deployable: !needsServices, protectedTarget, phased, mutations };
}

/** References point at things that exist (the generator's half of "valid"). */
function fixReferences(modules, pool) {
  // A reference into a module that depends (transitively) on the referring module would be a cycle.
  const dependents = new Map(Object.keys(modules).map((n) => [n, new Set()]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, m] of Object.entries(modules)) {
      for (const dep of m.depends_on ?? []) {
        const set = dependents.get(dep);
        if (!set) continue;
        for (const d of [name, ...dependents.get(name)]) if (!set.has(d)) (set.add(d), (changed = true));
      }
    }
  }
  const home = new Map();
  for (const [name, m] of Object.entries(modules)) for (const [section, entries] of Object.entries(m.resources ?? {})) for (const n of Object.keys(entries ?? {})) home.set(`${section}.${n}`, name);
  let current = "";
  const reachable = (section, n) => home.has(`${section}.${n}`) && !dependents.get(current)?.has(home.get(`${section}.${n}`));
  const declared = (section) => ({ has: (n) => reachable(section, n) });
  const models = declared("models");
  const jobs = declared("jobs");
  const computes = declared("compute");
  for (const [moduleName, m] of Object.entries(modules)) {
    current = moduleName;
    for (const [name, job] of Object.entries(m.resources?.jobs ?? {})) {
      if (job.registers && !models.has(job.registers.model)) delete job.registers;
      if (job.compute?.environment && !computes.has(job.compute.environment)) delete job.compute.environment;
      if (job.command !== undefined && job.tasks !== undefined) delete job.tasks;
      if (job.command === undefined && job.tasks === undefined) job.command = "true";
      if (job.tasks && Object.keys(job.tasks).length === 0) {
        delete job.tasks;
        job.command = "true";
      }
      void name;
    }
    for (const [name, s] of Object.entries(m.resources?.schedules ?? {})) if (!jobs.has(s.job)) delete m.resources.schedules[name];
    for (const [name, p] of Object.entries(m.resources?.pipelines ?? {})) {
      p.stages = (p.stages ?? []).filter((st) => !st.job || jobs.has(st.job)).map((st, i) => validStage({ ...st, name: `s${i}` }, jobs));
      if (p.stages.length === 0) delete m.resources.pipelines[name];
      // Conditions, other pipelines, git polling and notification URLs are not generated: what the JSON Schema cannot say.
      if (p.triggers) {
        delete p.triggers.after;
        delete p.triggers.git;
        if (p.triggers.cron === undefined) (delete p.triggers.timezone, delete p.triggers.catch_up);
      }
      delete p.notifications;
    }
    for (const [name, e] of Object.entries(m.resources?.endpoints ?? {})) {
      e.served = (e.served ?? []).filter((s) => models.has(s.model));
      if (e.served.length === 0) delete m.resources.endpoints[name];
    }
  }
  void pool;
  fixPhases(modules);
}

/** A pipeline stage with the keys its type takes (src/kinds/pipeline/index.ts checks them; the JSON Schema cannot). */
function validStage(st, jobs) {
  const keep = { run: ["job", "params", "target"], deploy: ["target", "phase", "mode", "force"], destroy: ["target", "force"], approval: ["target", "prevent_self_review", "timeout", "message"], wait: ["duration"], notify: ["message"] };
  let type = st.type in keep ? st.type : "notify";
  if (type === "run" && !st.job) type = jobs.size ? "run" : "notify";
  const out = { name: st.name, type };
  for (const k of keep[type]) if (st[k] !== undefined) out[k] = st[k];
  if (st.description !== undefined) out.description = st.description;
  if (type === "run" && !out.job) out.job = [...jobs][0];
  if (type === "approval") out.approvers = ["user:fuzz"];
  if (type === "wait") out.duration = "1m";
  if (type === "notify" && !out.message) out.message = "hi";
  return out;
}

/** Phases in dependency order: a module after those it depends on, a resource after what it refers to. */
function fixPhases(modules) {
  const modulePhase = new Map();
  for (const [name, m] of Object.entries(modules)) {
    const deps = (m.depends_on ?? []).map((d) => modulePhase.get(d) ?? 0);
    const phase = Math.max(m.phase ?? 0, ...deps);
    if (phase > 0) m.phase = phase;
    modulePhase.set(name, phase);
  }
  const phaseOf = new Map();
  const own = (m, r) => Math.max(r.phase ?? 0, m.phase ?? 0);
  for (const m of Object.values(modules)) {
    for (const [section, entries] of Object.entries(m.resources ?? {})) for (const [n, r] of Object.entries(entries ?? {})) phaseOf.set(`${section}.${n}`, own(m, r));
  }
  const raise = (m, r, refs) => {
    const p = Math.max(own(m, r), ...refs.map((ref) => phaseOf.get(ref) ?? 0));
    if (p > (m.phase ?? 0) || r.phase !== undefined) r.phase = p;
    return p;
  };
  for (let round = 0; round < 3; round++) {
    for (const m of Object.values(modules)) {
      const res = m.resources ?? {};
      for (const [n, j] of Object.entries(res.jobs ?? {})) phaseOf.set(`jobs.${n}`, raise(m, j, j.registers ? [`models.${j.registers.model}`] : []));
      for (const [n, sc] of Object.entries(res.schedules ?? {})) phaseOf.set(`schedules.${n}`, raise(m, sc, [`jobs.${sc.job}`]));
      for (const [n, pl] of Object.entries(res.pipelines ?? {})) phaseOf.set(`pipelines.${n}`, raise(m, pl, pl.stages.filter((st) => st.job).map((st) => `jobs.${st.job}`)));
      for (const [n, e] of Object.entries(res.endpoints ?? {})) phaseOf.set(`endpoints.${n}`, raise(m, e, e.served.map((sv) => `models.${sv.model}`)));
      for (const [n, c] of Object.entries(res.compute ?? {})) phaseOf.set(`compute.${n}`, raise(m, c, []));
    }
  }
  for (const m of Object.values(modules)) {
    // Hooks run in the order written, each after the one before: phases never go down.
    let floor = m.phase ?? 0;
    for (const h of m.hooks ?? []) {
      if ((h.phase ?? m.phase ?? 0) < floor) h.phase = floor;
      floor = Math.max(floor, h.phase ?? 0);
    }
    for (const entries of Object.values(m.resources ?? {})) for (const r of Object.values(entries ?? {})) if (r && r.phase !== undefined && r.phase < (m.phase ?? 0)) r.phase = m.phase;
  }
}

// ---------------------------------------------------------------------------------------------
// Running one seed through the real CLI

const CRASH = [/\n\s+at .+:\d+:\d+\)?(\n|$)/, /Maximum call stack/, /\bRangeError\b/, /\bTypeError\b/, /\bReferenceError\b/, /Cannot read propert/, /is not a function/, /is not iterable/, /undefined is not/, /"code":\s*"internal"/, /SQLITE_[A-Z]+/, /datatype mismatch/];

export function runSeed(seed, options = {}) {
  const schema = options.schema ?? loadSchema();
  const gen = generateProject(seed, schema);
  const root = mkdtempSync(join(tmpdir(), `slipway-fuzz-${seed}-`));
  const dir = join(root, "project");
  const home = join(root, "home");
  for (const [path, content] of Object.entries(gen.files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
    if (path.endsWith(".sh")) chmodSync(join(dir, path), 0o755);
  }
  const env = { ...process.env, SLIPWAY_HOME: home, SLIPWAY_USER: "fuzzer", NO_COLOR: "1", SLIPWAY_SERVER_PORT: "0", SLIPWAY_PARALLELISM: "4" };
  delete env.SLIPWAY_FAILPOINT;
  delete env.SLIPWAY_VAR_catalog;
  const failures = [];
  const steps = [];
  const cli = (args) => {
    const started = Date.now();
    const p = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: "utf8", timeout: options.timeoutMs ?? 60_000, killSignal: "SIGKILL" });
    const result = { args, code: p.status ?? -1, stdout: p.stdout ?? "", stderr: p.stderr ?? "", ms: Date.now() - started, timedOut: !!p.error };
    steps.push(result);
    const text = `${result.stdout}\n${result.stderr}`;
    if (result.timedOut) failures.push(`${args.join(" ")}: timed out`);
    else if (![0, 1, 2, 3].includes(result.code)) failures.push(`${args.join(" ")}: exit ${result.code}`);
    const crash = CRASH.find((re) => re.test(text));
    if (crash) failures.push(`${args.join(" ")}: internal error or stack trace (${crash}):\n${text.trim().slice(0, 2000)}`);
    return result;
  };
  const json = (r) => {
    try {
      return JSON.parse(r.stdout);
    } catch {
      failures.push(`${r.args.join(" ")}: stdout is not one JSON document:\n${r.stdout.slice(0, 500)}`);
      return undefined;
    }
  };
  const invalidIsExplained = (r, doc) => {
    if (r.code !== 2 || !doc) return;
    const diagnostics = doc.error?.diagnostics;
    if (!doc.error?.message) failures.push(`${r.args.join(" ")}: exit 2 without an error message`);
    for (const d of diagnostics ?? []) {
      if (!d.message || /undefined|\[object Object\]|NaN/.test(d.message)) failures.push(`${r.args.join(" ")}: unclear diagnostic ${JSON.stringify(d)}`);
      if (d.file !== undefined && !(d.line >= 1 && d.column >= 1)) failures.push(`${r.args.join(" ")}: diagnostic without line:column ${JSON.stringify(d)}`);
    }
  };

  try {
    const v = cli(["validate", "--json"]);
    const vdoc = json(v);
    invalidIsExplained(v, vdoc);
    if (![0, 2].includes(v.code)) failures.push(`validate: exit ${v.code} (expected 0 or 2)`);
    if (gen.valid && v.code !== 0) failures.push(`validate: the generator meant this project to be valid, but exit ${v.code}:\n${v.stdout.slice(0, 1500)}`);
    const p = cli(["plan", "--json"]);
    const pdoc = json(p);
    invalidIsExplained(p, pdoc);
    if (v.code === 0 && p.code === 2) failures.push(`plan: exit 2 although validate passed:\n${p.stdout.slice(0, 1500)}`);
    if (v.code === 2 && p.code !== 2) failures.push(`plan: exit ${p.code} although validate found the input invalid`);
    if (v.code === 0 && gen.deployable) {
      const noDrift = (phase) => {
        const again = json(cli(["plan", "--json", ...(phase === undefined ? [] : ["--phase", String(phase)])]));
        const s = again?.summary ?? {};
        if (s.create || s.update || s.replace || s.delete) failures.push(`drift: plan${phase === undefined ? "" : ` --phase ${phase}`} after deploy is not empty: ${JSON.stringify(s)} ${JSON.stringify(again.actions?.filter((a) => a.action !== "noop"))}`);
      };
      if (gen.phased) {
        // Phase 0 first (what later phases add is not there yet), then everything.
        const d0 = cli(["deploy", "--yes", "--phase", "0", "--json"]);
        if (d0.code !== 0) failures.push(`deploy --phase 0: exit ${d0.code}:\n${d0.stdout.slice(0, 1500)}\n${d0.stderr.slice(0, 1500)}`);
        else noDrift(0);
      }
      const d = cli(["deploy", "--yes", "--json"]);
      const ddoc = json(d);
      if (d.code !== 0) failures.push(`deploy: exit ${d.code}:\n${d.stdout.slice(0, 1500)}\n${d.stderr.slice(0, 1500)}`);
      else noDrift();
      void ddoc;
      const x = cli(["destroy", "--yes", ...(gen.protectedTarget ? ["--force"] : [])]);
      if (x.code !== 0) failures.push(`destroy: exit ${x.code}:\n${x.stderr.slice(0, 1500)}`);
      const st = json(cli(["status", "--json"]));
      if (st && Object.keys(st.resources ?? {}).length) failures.push(`destroy left resources: ${JSON.stringify(st.resources)}`);
      const settings = json(cli(["settings", "list", "--json"]));
      if (Array.isArray(settings) && settings.length) failures.push(`destroy left settings: ${JSON.stringify(settings)}`);
    }
  } finally {
    spawnSync(process.execPath, [BIN, "server", "stop"], { env, stdio: "ignore" });
    if (failures.length === 0 || !options.keep) rmSync(root, { recursive: true, force: true });
  }
  return { seed, ok: failures.length === 0, failures, steps, generated: gen, folder: failures.length && options.keep ? dir : undefined };
}

let cachedSchema;
export function loadSchema() {
  if (cachedSchema) return cachedSchema;
  const p = spawnSync(process.execPath, [BIN, "schema"], { encoding: "utf8" });
  if (p.status !== 0) throw new Error(`slipway schema failed: ${p.stderr}`);
  return (cachedSchema = JSON.parse(p.stdout));
}

export function describeFailure(result) {
  return [
    `seed ${result.seed}: ${result.failures.length} failure(s)${result.generated.mutations.length ? ` (mutations: ${result.generated.mutations.join("; ")})` : " (no mutation: meant to be valid)"}`,
    ...result.failures.map((f) => `  - ${f.split("\n").join("\n    ")}`),
    `  reproduce: node scripts/fuzz.mjs --seed ${result.seed}${result.folder ? `   (project kept in ${result.folder})` : ""}`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Command line

function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const envSeed = process.env.SLIPWAY_FUZZ_SEED;
  const single = arg("--seed") ?? envSeed;
  const schema = loadSchema();
  if (single !== undefined && argv.includes("--print")) {
    const gen = generateProject(Number(single), schema);
    for (const [path, content] of Object.entries(gen.files)) process.stdout.write(`==> ${path}\n${content}\n`);
    process.stdout.write(`(valid: ${gen.valid}, deployable: ${gen.deployable}, mutations: ${gen.mutations.join("; ") || "none"})\n`);
    return 0;
  }
  const seeds = single !== undefined ? [Number(single)] : Array.from({ length: Number(arg("--count") ?? 100) }, (_, k) => Number(arg("--from") ?? 1) + k);
  let failed = 0;
  const started = Date.now();
  for (const seed of seeds) {
    const result = runSeed(seed, { schema, keep: single !== undefined || argv.includes("--keep") });
    if (!result.ok) {
      failed++;
      process.stdout.write(`${describeFailure(result)}\n`);
    } else if (single !== undefined || argv.includes("--verbose")) {
      process.stdout.write(`seed ${seed}: ok (${result.steps.map((s) => `${s.args[0]}=${s.code}`).join(" ")})${result.generated.mutations.length ? ` mutations: ${result.generated.mutations.join("; ")}` : ""}\n`);
    }
  }
  process.stdout.write(`${seeds.length - failed}/${seeds.length} seeds passed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
