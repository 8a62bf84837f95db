// Public JSON of what a new user meets first: `init`, `doctor` and `completion`.
import { z } from "zod";
import type { DoctorReport } from "../doctor/checks.js";
import type { InitResult } from "../init/scaffold.js";
import { failureView, type ErrorJson } from "./error.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

// ---- init

export const initSchema = lazy(() =>
  z.strictObject({
    /** The project folder, absolute. */
    dir: z.string(),
    project: z.string(),
    template: z.string(),
    /** Files written, relative to `dir`, sorted. */
    files: z.array(z.string()),
  }),
);

export function initView(r: InitResult): Infer<typeof initSchema> {
  return { dir: r.dir, project: r.project, template: r.template, files: [...r.files] };
}

// ---- doctor

const resolvedBackend = () => z.strictObject({ type: z.string(), from: z.enum(["target", "home", "default"]) });

export const doctorSchema = lazy(() =>
  z.strictObject({
    home: z.string(),
    /** The project checked; null when there is none (or it does not compile). */
    project: z
      .strictObject({
        dir: z.string(),
        name: z.string(),
        target: z.string(),
        /** The backends the target resolved to, and from where: its own setting, the home's config.yaml, the default. */
        backends: z.strictObject({ state: resolvedBackend(), blobs: resolvedBackend(), executor: resolvedBackend() }),
      })
      .nullable(),
    checks: z.array(
      z.strictObject({
        name: z.string(),
        status: z.enum(["ok", "note", "warn", "fail"]),
        message: z.string(),
        fix: z.string().nullable(),
      }),
    ),
  }),
);

export function doctorView(r: DoctorReport): Infer<typeof doctorSchema> {
  return {
    home: r.home,
    project: r.project ? { dir: r.project.dir, name: r.project.name, target: r.project.target, backends: r.project.backends } : null,
    checks: r.checks.map((c) => ({ name: c.name, status: c.status, message: c.message, fix: c.fix ?? null })),
  };
}

/** doctor finishes with its document and exit 1 when a check failed. */
export function doctorFailure(r: DoctorReport): ErrorJson | undefined {
  const failed = r.checks.filter((c) => c.status === "fail");
  if (!failed.length) return undefined;
  return failureView("checks_failed", `${failed.length} problem(s) to fix before deploying: ${failed.map((c) => c.name).join(", ")}`, "each failed check says how to fix it (`fix`)");
}

// ---- completion

export const completionSchema = lazy(() => z.strictObject({ shell: z.enum(["bash", "zsh"]), script: z.string() }));

export function completionView(shell: "bash" | "zsh", script: string): Infer<typeof completionSchema> {
  return { shell, script };
}
