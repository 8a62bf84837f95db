// Reads a YAML file into plain values while remembering where every key and value came from,
// so that any later error (schema, reference, cycle) can point at file:line:column.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from "yaml";
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
  for (const error of doc.errors) {
    diagnostics.push({ location: at(error.pos[0]), message: `YAML syntax: ${error.message.split("\n")[0]}`, hint: "fix the YAML syntax at this position" });
  }
  if (diagnostics.length > 0) return { value: undefined, sourceMap, diagnostics };

  const walk = (node: unknown, path: PathSegment[]): unknown => {
    if (isAlias(node)) return walk(node.resolve(doc as Document), path);
    const range = (node as YamlNode | null)?.range;
    const location = range ? at(range[0]) : undefined;
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyLocation = keyNode?.range ? at(keyNode.range[0]) : location;
        let key = String(isScalar(keyNode) ? keyNode.value : keyNode);
        if (transform && keyLocation) key = transform(key, keyLocation, path);
        if (seen.has(key)) {
          diagnostics.push({ location: keyLocation, message: `duplicate key "${key}"`, hint: "each key may appear once in a mapping; remove or rename one" });
          continue;
        }
        seen.add(key);
        const childPath = [...path, key];
        const valueNode = pair.value as YamlNode | null;
        const valueLocation = valueNode?.range ? at(valueNode.range[0]) : keyLocation;
        sourceMap.set(childPath, { key: keyLocation, value: valueLocation });
        out[key] = walk(pair.value, childPath);
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, index) => {
        const childPath = [...path, index];
        const itemRange = (item as YamlNode | null)?.range;
        sourceMap.set(childPath, { value: itemRange ? at(itemRange[0]) : location });
        return walk(item, childPath);
      });
    }
    if (isScalar(node)) {
      const value = node.value;
      if (typeof value === "string" && transform && location) return transform(value, location, path);
      return value;
    }
    return node ?? null;
  };
  sourceMap.set([], { value: doc.contents?.range ? at(doc.contents.range[0]) : { file, line: 1, column: 1 } });
  const value = walk(doc.contents, []);
  return { value, sourceMap, diagnostics };
}
