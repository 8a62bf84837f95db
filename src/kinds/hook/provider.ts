// A module hook: a deploy script run on create/update (again whenever the script or the module's
// environment changes) and a destroy script run on delete. Scripts are kept as blobs so a destroy or
// a rollback runs exactly the script that was deployed, even after the file changed or disappeared.
// A script's exit settles its action: it runs through a wrapper that writes its exit status to a file
// (ctx.log.settlingChild), so a script that outlives a killed deploy is adopted, not run again.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SlipwayError } from "../../errors.js";
import type { Provider, ProviderContext } from "../../engine/provider.js";
import type { DesiredResource, ResourceRuntime } from "../../resources.js";
import { putContent } from "../../store/blobs/blob-store.js";
import { sha256 } from "../../util/hash.js";
import { redact } from "../../util/redact.js";
import { runScript } from "../../util/run-script.js";
import type { TargetServices } from "../services.js";
import type { HookSpec } from "./compile.js";

type Context = ProviderContext<TargetServices>;

async function storeScripts(ctx: Context, desired: DesiredResource<HookSpec>): Promise<void> {
  for (const content of Object.values(desired.assets ?? {})) await putContent(ctx.blobs, content, "scripts");
}

async function runHookScript(ctx: Context, address: string, spec: HookSpec, which: "deploy" | "destroy", runtime?: ResourceRuntime): Promise<number> {
  const ref = spec[which];
  if (!ref) return 0;
  const { projectDir, env: processEnv } = ctx.services.scripts;
  const cwd = runtime?.cwd ?? resolve(projectDir, spec.dir);
  const onDisk = join(cwd, ref.path);
  let script = onDisk;
  let tempDir: string | undefined;
  // Run the file in place when it is the recorded content; otherwise the recorded content from blobs.
  if (!existsSync(onDisk) || sha256(readFileSync(onDisk)) !== ref.sha256) {
    const content = await ctx.blobs.get(`scripts/${ref.sha256}`);
    if (!content) {
      throw new SlipwayError("hook_script_missing", `${address}: the recorded ${which} script (${ref.path}, sha256 ${ref.sha256.slice(0, 12)}) is neither on disk nor in the blob store`, {
        hint: "restore the script file, or destroy with --force to forget the resource",
      });
    }
    tempDir = await mkdtemp(join(tmpdir(), "slipway-hook-"));
    script = join(tempDir, ref.path.split("/").pop()!);
    await writeFile(script, content);
  }
  const secrets = runtime?.secrets ?? [];
  // Recorded on success: what deploy() returns.
  const durable = ctx.log.settlingChild?.(which === "deploy" ? { exit_code: 0 } : {});
  const env: NodeJS.ProcessEnv = { ...processEnv, ...(runtime?.env ?? { SLIPWAY_PROJECT: ctx.project, SLIPWAY_TARGET: ctx.target, SLIPWAY_MODULE: spec.module }) };
  try {
    const code = await runScript({
      script,
      cwd: existsSync(cwd) ? cwd : projectDir,
      env,
      signal: ctx.signal,
      onLine: (stream, line) => ctx.log.output(stream, redact(line, secrets)),
      onStart: (pid) => ctx.log.childStarted(pid),
      durable,
    });
    await ctx.log.childStarted(null);
    return code;
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

async function deploy(ctx: Context, desired: DesiredResource<HookSpec>): Promise<Record<string, unknown>> {
  await storeScripts(ctx, desired);
  const spec = desired.spec;
  const code = await runHookScript(ctx, desired.address, spec, "deploy", desired.runtime);
  if (code !== 0) {
    throw new SlipwayError("hook_failed", `deploy script ${spec.deploy?.path} exited with code ${code}`, {
      hint: "fix the script and deploy again; the deploy continues from this hook",
    });
  }
  return { exit_code: code };
}

export const hookProvider: Provider<HookSpec, TargetServices> = {
  create: deploy,
  update: (ctx, _recorded, desired) => deploy(ctx, desired),
  async delete(ctx, recorded, runtime) {
    const spec = recorded.spec;
    const code = await runHookScript(ctx, recorded.address, spec, "destroy", runtime);
    if (code !== 0) {
      throw new SlipwayError("hook_failed", `destroy script ${spec.destroy?.path} exited with code ${code}`, {
        hint: "fix the script and run destroy again",
      });
    }
  },
};
