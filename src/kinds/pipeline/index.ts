// A release pipeline (`pipeline.NAME`): stages with triggers. Validated and recorded today; the
// pipelines work runs them.
import { didYouMean } from "../../util/suggest.js";
import { checkCron } from "../cron.js";
import { defineKind } from "../kind.js";
import { recordOnly, replaceOnModuleChange } from "../record-only.js";
import { pipelineSchema, type PipelineBlock } from "./schema.js";

export type PipelineSpec = Omit<PipelineBlock, "phase" | "permissions"> & { module: string };

export const pipelineKind = defineKind<PipelineSpec, PipelineBlock>({
  kind: "pipeline",
  section: { key: "pipelines", schema: pipelineSchema },
  permissioned: true,
  compile({ phase: _phase, permissions: _permissions, ...rest }, cx) {
    if (rest.triggers?.cron) checkCron(rest.triggers.cron, undefined, cx.at(["triggers", "cron"]), cx.report);
    const targets = cx.project.targetNames;
    rest.stages.forEach((st, i) => {
      if (st.target && !targets.includes(st.target)) cx.report({ location: cx.at(["stages", i, "target"]), message: `pipeline "${cx.name}": unknown target "${st.target}"`, hint: didYouMean(st.target, targets) ?? `targets: ${targets.join(", ")}` });
    });
    return { module: cx.module.name, ...rest };
  },
  references: (spec) => spec.stages.flatMap((st, i) => (st.job ? [{ kind: "job" as const, name: st.job, path: ["stages", i, "job"] }] : [])),
  provider: recordOnly(),
  changeKind: replaceOnModuleChange,
});
