// Turns schema problems into diagnostics that point at file:line:column and suggest a fix.
import type { z } from "zod";
import type { Diagnostic } from "../errors.js";
import { didYouMean } from "../util/suggest.js";
import type { PathSegment, SourceMap } from "./yaml-source.js";

/**
 * Validates `value`, appending a diagnostic per problem. When it is invalid, returns what remains
 * valid after dropping the offending parts, so that later checks (references, cycles) still run
 * and every problem is reported in one go; `valid` tells whether anything was dropped.
 */
export function validateAgainst<T>(schema: z.ZodType<T>, value: unknown, sourceMap: SourceMap, diagnostics: Diagnostic[]): { data?: T; valid: boolean } {
  const result = schema.safeParse(value);
  if (result.success) {
    const problems = keepProtoKeys(schema, value, result.data, [], sourceMap, value);
    diagnostics.push(...problems);
    return { data: result.data, valid: problems.length === 0 };
  }
  for (const issue of result.error.issues) diagnostics.push(...issueToDiagnostics(schema, issue, sourceMap, value));
  const data = salvage(schema, value, result.error.issues);
  if (data !== undefined) diagnostics.push(...keepProtoKeys(schema, value, data, [], sourceMap, value));
  return { data, valid: false };
}

const own = (o: unknown, key: string | number): boolean => o !== null && typeof o === "object" && Object.hasOwn(o, key);

/**
 * zod leaves a record's "__proto__" entry out of its output (it guards its own plain objects), so a
 * setting, variable, parameter or env key named "__proto__" would vanish without a word. Keys are
 * data here: each such entry is validated against the record's schemas and put back as an own
 * property of the output. Returns the problems found in those entries.
 */
function keepProtoKeys(root: z.ZodType, input: unknown, output: unknown, path: PathSegment[], sourceMap: SourceMap, rootValue: unknown, schema: unknown = root): Diagnostic[] {
  if (input === null || typeof input !== "object" || output === null || typeof output !== "object") return [];
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
    case "nonoptional":
      return keepProtoKeys(root, input, output, path, sourceMap, rootValue, def.innerType);
    case "pipe":
      return keepProtoKeys(root, input, output, path, sourceMap, rootValue, def.in);
    case "object": {
      const problems: Diagnostic[] = [];
      for (const [key, sub] of Object.entries(def.shape ?? {})) {
        if (own(input, key) && own(output, key)) problems.push(...keepProtoKeys(root, (input as Record<string, unknown>)[key], (output as Record<string, unknown>)[key], [...path, key], sourceMap, rootValue, sub));
      }
      return problems;
    }
    case "array": {
      if (!Array.isArray(input) || !Array.isArray(output) || input.length !== output.length) return [];
      return input.flatMap((item, i) => keepProtoKeys(root, item, output[i], [...path, i], sourceMap, rootValue, def.element));
    }
    case "record": {
      const problems: Diagnostic[] = [];
      for (const key of Object.keys(input)) {
        const value = (input as Record<string, unknown>)[key];
        if (key !== "__proto__") {
          if (own(output, key)) problems.push(...keepProtoKeys(root, value, (output as Record<string, unknown>)[key], [...path, key], sourceMap, rootValue, def.valueType));
          continue;
        }
        const keyCheck = (def.keyType as z.ZodType).safeParse(key);
        if (!keyCheck.success) {
          problems.push({ location: sourceMap.locate([...path, key], "key"), message: `${describePath([...path, key])}: ${keyCheck.error.issues[0]?.message ?? "invalid key"}` });
          continue;
        }
        const checked = (def.valueType as z.ZodType).safeParse(value);
        if (!checked.success) {
          for (const issue of checked.error.issues) problems.push(...issueToDiagnostics(root, { ...issue, path: [...path, key, ...issue.path] } as z.core.$ZodIssue, sourceMap, rootValue));
          continue;
        }
        Object.defineProperty(output, key, { value: checked.data, enumerable: true, writable: true, configurable: true });
        problems.push(...keepProtoKeys(root, value, checked.data, [...path, key], sourceMap, rootValue, def.valueType));
      }
      return problems;
    }
    default:
      return [];
  }
}

function salvage<T>(schema: z.ZodType<T>, value: unknown, firstIssues: z.core.$ZodIssue[]): T | undefined {
  const copy = structuredClone(value);
  let issues = firstIssues;
  for (let round = 0; round < 20; round++) {
    for (const issue of issues) {
      const path = issue.path as PathSegment[];
      if (issue.code === "unrecognized_keys") for (const key of issue.keys) removeAt(copy, [...path, key]);
      else if (issue.code === "invalid_type" && valueAt(copy, path) === undefined) removeAt(copy, path.slice(0, -1));
      else removeAt(copy, path);
    }
    const again = schema.safeParse(copy);
    if (again.success) return again.data;
    issues = again.error.issues;
    if (issues.some((i) => i.path.length === 0 && i.code !== "unrecognized_keys")) return undefined;
  }
  return undefined;
}

function removeAt(root: unknown, path: readonly PathSegment[]): void {
  if (path.length === 0) return;
  const parent = valueAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
  else if (parent && typeof parent === "object") delete (parent as Record<string, unknown>)[last as string];
}

function issueToDiagnostics(schema: z.ZodType, issue: z.core.$ZodIssue, sourceMap: SourceMap, root: unknown): Diagnostic[] {
  const path = issue.path as PathSegment[];
  const where = path.length ? `${describePath(path)}: ` : "";
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(schema, path);
    return issue.keys.map((key) => ({
      location: sourceMap.locate([...path, key], "key"),
      message: `unknown key "${key}"${path.length ? ` in ${describePath(path)}` : ""}`,
      hint: didYouMean(key, known) ?? (known.length ? `expected one of: ${known.join(", ")}` : "remove it"),
    }));
  }
  if (issue.code === "invalid_key") {
    // A record key its key schema refuses (job names, variable names, env names…): say which and why.
    const key = path[path.length - 1];
    const why = (issue as { issues?: Array<{ message?: string }> }).issues?.[0]?.message;
    return [{ location: sourceMap.locate(path, "key"), message: `invalid key ${JSON.stringify(key)}${path.length > 1 ? ` in ${describePath(path.slice(0, -1))}` : ""}: ${why ?? issue.message}` }];
  }
  if (issue.code === "invalid_union") {
    const actual = valueAt(root, path);
    const expected = unionTypes(schema, path);
    const list = expected.length > 1 ? `${expected.slice(0, -1).join(", ")} or ${expected.at(-1)}` : expected[0];
    if (list) return [{ location: sourceMap.locate(path), message: `${where}expected ${list}, got ${typeName(actual)}` }];
  }
  if (issue.code === "invalid_value") {
    const allowed = issue.values.map(String);
    const actual = valueAt(root, path);
    if (actual === undefined) {
      return [{ location: sourceMap.locate(path.slice(0, -1)), message: `${describePath(path)} is required: one of ${allowed.join(", ")}`, hint: `add \`${String(path[path.length - 1])}:\`` }];
    }
    return [
      {
        location: sourceMap.locate(path),
        message: `${where}${JSON.stringify(actual)} is not allowed; expected one of ${allowed.join(", ")}`,
        hint: typeof actual === "string" ? didYouMean(actual, allowed) : undefined,
      },
    ];
  }
  if (issue.code === "invalid_type") {
    const actual = valueAt(root, path);
    const missing = actual === undefined;
    return [
      {
        location: sourceMap.locate(missing ? path.slice(0, -1) : path),
        message: missing ? `${describePath(path)} is required (${issue.expected})` : `${where}expected ${issue.expected}, got ${typeName(actual)}`,
        hint: missing ? `add \`${String(path[path.length - 1])}:\`` : actual === null ? emptyValueHint(path, issue.expected) : undefined,
      },
    ];
  }
  return [{ location: sourceMap.locate(path), message: `${where}${issue.message}` }];
}

/** `dev:` with nothing after it is null in YAML: say how to write an empty mapping, list or text. */
function emptyValueHint(path: readonly PathSegment[], expected: string): string | undefined {
  const key = path.length ? String(path[path.length - 1]) : "the value";
  const empty = expected === "object" || expected === "record" ? "{}" : expected === "array" ? "[]" : expected === "string" ? '""' : undefined;
  return empty ? `\`${key}:\` with nothing after it is null; write \`${key}: ${empty}\` for an empty value` : `\`${key}:\` has no value; give it one`;
}

export function describePath(path: readonly PathSegment[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("") || "(document)";
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

interface Def {
  type: string;
  keyType?: unknown;
  shape?: Record<string, unknown>;
  valueType?: unknown;
  element?: unknown;
  innerType?: unknown;
  options?: unknown[];
  in?: unknown;
}
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

/** The plain types a union at `path` accepts (for "expected a string or a number"), or [] when not simple. */
function unionTypes(schema: unknown, path: readonly PathSegment[]): string[] {
  const found: string[] = [];
  const visit = (s: unknown, i: number): void => {
    const def = defOf(s);
    if (["optional", "nullable", "default", "readonly"].includes(def.type)) return visit(def.innerType, i);
    if (def.type === "pipe") return visit(def.in, i);
    if (i === path.length) {
      if (def.type === "union") for (const o of def.options ?? []) found.push(defOf(o).type);
      return;
    }
    const seg = path[i]!;
    if (def.type === "object" && typeof seg === "string" && def.shape?.[seg]) visit(def.shape[seg], i + 1);
    else if (def.type === "record") visit(def.valueType, i + 1);
    else if (def.type === "array") visit(def.element, i + 1);
    else if (def.type === "union") for (const o of def.options ?? []) visit(o, i);
  };
  visit(schema, 0);
  const simple = ["string", "number", "boolean"];
  return found.every((t) => simple.includes(t)) ? [...new Set(found)].map((t) => `a ${t}`) : [];
}

/** The keys the schema allows at `path` (for "did you mean"). */
export function knownKeysAt(schema: unknown, path: readonly PathSegment[]): string[] {
  const keys = new Set<string>();
  const visit = (s: unknown, i: number): void => {
    const def = defOf(s);
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "readonly":
        return visit(def.innerType, i);
      case "pipe":
        return visit(def.in, i);
      case "union":
        for (const o of def.options ?? []) visit(o, i);
        return;
    }
    if (i === path.length) {
      if (def.type === "object") Object.keys(def.shape ?? {}).forEach((k) => keys.add(k));
      return;
    }
    const seg = path[i]!;
    if (def.type === "object" && typeof seg === "string" && def.shape?.[seg]) visit(def.shape[seg], i + 1);
    else if (def.type === "record") visit(def.valueType, i + 1);
    else if (def.type === "array") visit(def.element, i + 1);
  };
  visit(schema, 0);
  return [...keys];
}
