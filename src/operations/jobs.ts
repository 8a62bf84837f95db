// Jobs as deployed to a target (`jobs list`): key, optional title, module, the schedules that run
// each, and its latest run.
import { specOf } from "../kinds/index.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";

export interface JobInfo {
  name: string;
  title: string | null;
  module: string;
  description: string | null;
  /** Deployed schedules that run it. */
  schedules: string[];
  lastRun: { id: string; status: string; trigger: string; createdAt: string } | null;
}

export async function listJobs(options: ProjectOptions, ctx: OperationContext): Promise<{ project: string; target: string; jobs: JobInfo[] }> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "jobs list");
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => {
    const recorded = await stores.state.forTarget(project.name, project.target.name).listResources();
    const schedules = recorded.filter((r) => r.kind === "schedule").map((r) => ({ name: r.name, job: specOf(r, "schedule").job }));
    const jobs: JobInfo[] = [];
    for (const r of recorded.filter((x) => x.kind === "job")) {
      const spec = specOf(r, "job");
      const [last] = await stores.state.runs().list({ project: project.name, target: project.target.name, job: r.name, limit: 1 });
      jobs.push({
        name: r.name,
        title: spec.title ?? null,
        module: r.module,
        description: spec.description ?? null,
        schedules: schedules.filter((s) => s.job === r.name).map((s) => s.name),
        lastRun: last ? { id: last.id, status: last.status, trigger: last.trigger, createdAt: last.created_at } : null,
      });
    }
    return { project: project.name, target: project.target.name, jobs };
  });
}
