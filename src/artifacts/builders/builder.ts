// The artifact builder contract: one file per artifact type (python-wheel.ts, npm.ts, archive.ts).
// A builder turns a package folder into one file in an empty output folder and says which version it
// is, always read from the package itself (never typed twice).
import type { ArtifactType } from "../../config/schema.js";
import { SlipwayError } from "../../errors.js";
import { runProcess } from "../../util/run-script.js";

/** The artifact's block in module.yaml, as compiled. */
export type ArtifactSpec = {
  module: string;
  type: ArtifactType;
  path: string;
  version?: string;
  python?: string;
  retention?: { keep_last: number };
  description?: string;
};

export interface BuildContext {
  /** The artifact's name in the project. */
  name: string;
  /** The package folder (absolute). */
  dir: string;
  spec: ArtifactSpec;
  /** An empty folder: the builder leaves exactly one file here. */
  outDir: string;
  /** The environment tools start from. */
  env: NodeJS.ProcessEnv;
  /** Every line the build tool prints. */
  onLine(stream: "stdout" | "stderr", line: string): void;
  signal?: AbortSignal;
}

export interface BuiltFile {
  /** Absolute path of the built file (inside outDir). */
  file: string;
  version: string;
  /** The name installers know the package by (a wheel's distribution, an npm package's name). */
  package: string;
}

export interface ArtifactBuilder {
  readonly type: ArtifactType;
  build(ctx: BuildContext): Promise<BuiltFile>;
}

/** Timestamps inside built files (zip entries): fixed, so the same sources give the same bytes. */
export const SOURCE_DATE_EPOCH = "315532800"; // 1980-01-01, the earliest a zip file can say

/**
 * Runs a build tool; a non-zero exit is a build failure (exit code 1) that carries the tool's last
 * lines of output, and a tool that cannot be started says which one and how to choose another.
 */
export async function runTool(ctx: BuildContext, command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; hint?: string; missingHint?: string }): Promise<string[]> {
  const lines: string[] = [];
  const onLine = (stream: "stdout" | "stderr", line: string) => {
    lines.push(line);
    if (lines.length > 400) lines.shift();
    ctx.onLine(stream, line);
  };
  let code: number;
  try {
    code = await runProcess({ command, args, cwd: options.cwd, env: options.env ?? ctx.env, signal: ctx.signal, onLine });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SlipwayError("build_failed", `artifact ${ctx.name}: cannot run ${command}: ${err.code === "ENOENT" ? "not found" : err.message}`, {
      hint: options.missingHint,
      details: { artifact: ctx.name, output: [] },
    });
  }
  if (code !== 0) {
    const tail = lines.slice(-40);
    throw new SlipwayError("build_failed", `artifact ${ctx.name}: \`${[command, ...args].join(" ")}\` exited with code ${code}\n${tail.map((l) => `  | ${l}`).join("\n")}`, {
      hint: options.hint,
      details: { artifact: ctx.name, exit_code: code, output: lines },
    });
  }
  return lines;
}
