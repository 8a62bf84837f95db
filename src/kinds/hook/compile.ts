// A hook block -> its spec: each script by path and sha256 (the content goes along as an asset, stored
// as a blob on apply), and the hash of the module environment, so a changed env file runs it again.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { hashValue, sha256 } from "../../util/hash.js";
import type { CompileContext } from "../kind.js";
import type { HookBlock } from "./schema.js";

export type ScriptRef = {
  path: string;
  sha256: string;
};

export type HookSpec = {
  module: string;
  /** The module's folder, relative to the project. */
  dir: string;
  deploy?: ScriptRef;
  destroy?: ScriptRef;
  env_sha256: string;
};

export function compileHook(hook: HookBlock, cx: CompileContext): { spec: HookSpec; assets: Record<string, string> } {
  const { module: m, project } = cx;
  const assets: Record<string, string> = {};
  const script = (field: "deploy" | "destroy"): ScriptRef | undefined => {
    const file = hook[field];
    if (!file) return undefined;
    const full = join(m.dir, file);
    if (!existsSync(full) || !statSync(full).isFile()) {
      cx.report({ location: cx.at([field]), message: `hook "${hook.name}": ${field} script "${file}" does not exist`, hint: `create ${relative(project.dir, full) || "."} or fix the path (relative to module.yaml)` });
      return undefined;
    }
    const content = readFileSync(full, "utf8");
    const hash = sha256(content);
    assets[hash] = content;
    return { path: file, sha256: hash };
  };
  const spec: HookSpec = {
    module: m.name,
    dir: relative(project.dir, m.dir) || ".",
    deploy: script("deploy"),
    destroy: script("destroy"),
    env_sha256: hashValue(cx.runtime.env),
  };
  return { spec, assets };
}
