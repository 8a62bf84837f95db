// Reads a YAML file into plain values while remembering where every key and value came from,
// so that any later error (schema, reference, cycle) can point at file:line:column.
import { readFileSync, statSync } from "node:fs";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node as YamlNode } from "yaml";
import type { Diagnostic, SourceLocation } from "../errors.js";

export type PathSegment = string | number;

export interface NodeLocations {
  key?: SourceLocation;
  value?: SourceLocation;
}

/** Where each path of a parsed document came from. Paths are after key interpolation. */
export class SourceMap {
  private readonly entries = new Map<string, NodeLocations>();
  constructor(readonly file: string) {}

  static pathKey(path: readonly PathSegment[]): string {
    return path.join("\u001f");
  }
  set(path: readonly PathSegment[], loc: NodeLocations): void {
    this.entries.set(SourceMap.pathKey(path), loc);
  }
  /** The location of the value at `path`, or of the nearest ancestor that has one. */
  locate(path: readonly PathSegment[], prefer: "key" | "value" = "value"): SourceLocation {
    for (let n = path.length; n >= 0; n--) {
      const loc = this.entries.get(SourceMap.pathKey(path.slice(0, n)));
      if (loc) {
        const hit = prefer === "key" ? loc.key ?? loc.value : loc.value ?? loc.key;
        if (hit) return hit;
      }
    }
    return { file: this.file, line: 1, column: 1 };
  }
}

/** Rewrites a scalar string (or a key) as it is read; used for ${…} interpolation. */
export type StringTransform = (text: string, location: SourceLocation, path: readonly PathSegment[]) => string;

export interface ParsedYaml {
  value: unknown;
  sourceMap: SourceMap;
  diagnostics: Diagnostic[];
}

/**
 * Limits that keep hostile YAML from exhausting the process. A Slipway file nests about 8 levels
 * deep and rarely uses aliases; these are far above what real projects need.
 */
export const YAML_LIMITS = {
  /** Levels of nested mappings and lists. */
  maxDepth: 64,
  /** Values that aliases (*name) may expand to, in total, per file: a "billion laughs" stops here. */
  maxAliasValues: 10_000,
  /** Size of one project file (slipway.yaml, a module.yaml, an env file): parsing is ~1 MB/s. */
  maxFileBytes: 1024 * 1024,
} as const;

/** Why an existing path cannot be read as a project file (a folder, over the size limit), or undefined. */
export function projectFileProblem(file: string, displayFile: string): Diagnostic | undefined {
  const st = statSync(file);
  const location = { file: displayFile, line: 1, column: 1 };
  if (!st.isFile()) return { location, message: "is not a file (a folder or a special file)", hint: "name a file here" };
  if (st.size > YAML_LIMITS.maxFileBytes) {
    return { location, message: `the file is ${st.size} bytes; project files are limited to ${YAML_LIMITS.maxFileBytes} bytes (1 MiB)`, hint: "split it: move resources into more module files" };
  }
  return undefined;
}

/** A project file's text, or a diagnostic when it cannot be one (see projectFileProblem). */
export function readProjectFile(file: string, displayFile: string): { text: string } | { problem: Diagnostic } {
  const problem = projectFileProblem(file, displayFile);
  return problem ? { problem } : { text: readFileSync(file, "utf8") };
}

/** Tags that only restate what plain YAML already means; any other tag is refused. */
const PLAIN_TAGS = new Set(["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`));

function showTag(tag: string): string {
  return tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;
}

/** Stops the walk: the file is hostile or broken beyond reporting more about it. */
class StopWalk extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/**
 * Parses YAML keeping file:line:column for every key and value. Mappings become objects without a
 * prototype, so any key ("__proto__", "constructor") is plain data. Alias expansion, nesting depth
 * and tags are checked here (see YAML_LIMITS); a breach is a diagnostic at the offending position.
 */
export function parseYamlWithPositions(text: string, file: string, transform?: StringTransform): ParsedYaml {
  const lineCounter = new LineCounter();
  // Duplicate keys are found in walk() with a Set: the library's own check is quadratic per mapping.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const sourceMap = new SourceMap(file);
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  let tooDeep = false;
  for (const error of doc.errors) {
    if (error.code === "RESOURCE_EXHAUSTION" || /call stack/i.test(error.message)) {
      // The parser itself ran out of stack: only absurd nesting gets there. Say so once.
      if (tooDeep) continue;
      tooDeep = true;
      diagnostics.push(tooDeepDiagnostic(at(error.pos[0])));
      continue;
    }
    diagnostics.push({ location: at(error.pos[0]), message: `YAML syntax: ${error.message.split("\n")[0]}`, hint: "fix the YAML syntax at this position" });
  }
  if (diagnostics.length > 0) return { value: undefined, sourceMap, diagnostics };

  let aliasValues = 0;
  /** Nodes being expanded through an alias right now: an alias to one of them is a cycle. */
  const expanding = new Set<unknown>();
  // Every alias's node, found in one pass in document order (the latest anchor of that name before
  // it): the library's Alias.resolve walks the whole document per alias, quadratic in alias count.
  const aliasTargets = new Map<unknown, unknown>();
  const anchors = new Map<string, unknown>();
  // An alias is written `*name`: a file without a "*" has none, and skips this pass (a tenth of the
  // parse of a 1,000-setting module file).
  if (text.includes("*")) {
    visit(doc, {
      Node(_key, node) {
        if (isAlias(node)) aliasTargets.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  /** `viaAlias`: the outermost alias being expanded (where a bomb is reported), if any. */
  const walk = (node: unknown, path: PathSegment[], viaAlias: { name: string; location?: SourceLocation } | undefined): unknown => {
    const range = (node as YamlNode | null)?.range;
    const location = range ? at(range[0]) : undefined;
    if (isAlias(node)) {
      const target = aliasTargets.get(node);
      if (target === undefined) return null; // an unknown anchor is a syntax error reported above
      if (expanding.has(target)) {
        throw new StopWalk({ location, message: `alias *${node.source} is used inside the node it names, so it never ends`, hint: `remove *${node.source} there or point it at another anchor` });
      }
      expanding.add(target);
      try {
        return walk(target, path, viaAlias ?? { name: node.source, location });
      } finally {
        expanding.delete(target);
      }
    }
    if (viaAlias && ++aliasValues > YAML_LIMITS.maxAliasValues) {
      throw new StopWalk({
        location: viaAlias.location ?? location,
        message: `aliases expand to more than ${YAML_LIMITS.maxAliasValues} values in this file, reached at alias *${viaAlias.name} (an alias bomb?)`,
        hint: "write the values out, or use fewer aliases of aliases",
      });
    }
    if (path.length > YAML_LIMITS.maxDepth) throw new StopWalk(tooDeepDiagnostic(location));
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag !== undefined && !PLAIN_TAGS.has(tag)) {
      diagnostics.push({
        location: range ? at(tagOffset(text, range[0])) : location,
        message: `unsupported YAML tag ${showTag(tag)}`,
        hint: "Slipway files hold strings, numbers, booleans, lists and mappings only; remove the tag (quote the value to keep it as text)",
      });
      if (isScalar(node)) return typeof node.value === "string" ? node.value : (node.source ?? null);
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = Object.create(null);
      const seen = new Set<string>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyLocation = keyNode?.range ? at(keyNode.range[0]) : location;
        const keyValue = isScalar(keyNode) ? keyNode.value : undefined;
        if (typeof keyValue !== "string" && typeof keyValue !== "number" && typeof keyValue !== "boolean") {
          diagnostics.push({ location: keyLocation, message: keyNode === null || keyValue === null ? "a mapping key is empty (null)" : "a mapping key must be plain text, not a list, mapping or alias", hint: "write the key as text, e.g. `name:`" });
          continue;
        }
        let key = String(keyValue);
        if (transform && keyLocation) key = transform(key, keyLocation, path);
        const keyProblem = controlCharacters(key, true);
        if (keyProblem) {
          diagnostics.push({ location: keyLocation, message: `key ${JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key)} contains ${keyProblem}`, hint: "keys are names: use printable characters only" });
          continue;
        }
        if (seen.has(key)) {
          diagnostics.push({ location: keyLocation, message: `duplicate key "${key}"`, hint: "each key may appear once in a mapping; remove or rename one" });
          continue;
        }
        seen.add(key);
        const childPath = [...path, key];
        const valueNode = pair.value as YamlNode | null;
        const valueLocation = valueNode?.range ? at(valueNode.range[0]) : keyLocation;
        sourceMap.set(childPath, { key: keyLocation, value: valueLocation });
        out[key] = walk(pair.value, childPath, viaAlias);
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, index) => {
        const childPath = [...path, index];
        const itemRange = (item as YamlNode | null)?.range;
        sourceMap.set(childPath, { value: itemRange ? at(itemRange[0]) : location });
        return walk(item, childPath, viaAlias);
      });
    }
    if (isScalar(node)) {
      let value = node.value;
      if (typeof value === "string" && transform && location) value = transform(value, location, path);
      const problem = typeof value === "string" ? controlCharacters(value, false) : undefined;
      if (problem) {
        diagnostics.push({ location, message: `this value contains ${problem}`, hint: "values are text: tabs and line breaks are fine, other control characters are not (they break environments, databases and terminals)" });
        return "";
      }
      return value;
    }
    return node ?? null;
  };
  sourceMap.set([], { value: doc.contents?.range ? at(doc.contents.range[0]) : { file, line: 1, column: 1 } });
  try {
    const value = walk(doc.contents, [], undefined);
    return { value, sourceMap, diagnostics };
  } catch (e) {
    if (!(e instanceof StopWalk)) throw e;
    return { value: undefined, sourceMap, diagnostics: [...diagnostics, e.diagnostic] };
  }
}

/** Describes the first control character in `text` (keys: any; values: any but tab, line feed, carriage return), or undefined. */
function controlCharacters(text: string, key: boolean): string | undefined {
  // eslint-disable-next-line no-control-regex
  const m = (key ? /[\u0000-\u001f\u007f]/ : /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/).exec(text);
  if (!m) return undefined;
  const c = m[0].charCodeAt(0);
  return c === 0 ? "a NUL byte" : `a control character (U+${c.toString(16).toUpperCase().padStart(4, "0")}) at position ${m.index + 1}`;
}

/** Where the tag written before the node starting at `offset` begins (a node's range starts after its tag and anchor). */
function tagOffset(text: string, offset: number): number {
  let end = offset;
  for (let token = 0; token < 2; token++) {
    while (end > 0 && /\s/.test(text[end - 1]!)) end--;
    let start = end;
    while (start > 0 && !/\s/.test(text[start - 1]!)) start--;
    if (text[start] === "!") return start;
    end = start;
  }
  return offset;
}

function tooDeepDiagnostic(location: SourceLocation | undefined): Diagnostic {
  return {
    location,
    message: `mappings and lists are nested too deep here (more than ${YAML_LIMITS.maxDepth} levels)`,
    hint: "Slipway files need a few levels only; flatten this value or remove it",
  };
}
