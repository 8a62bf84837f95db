// Pipelines: the deployed pipelines, their runs, a run's stage graph with live status, and the pending
// approvals with approve/reject for the listed approvers (the server checks again).
import { useState } from "preact/hooks";
import { api } from "../api";
import { can, useApp } from "../context";
import { Action, Badge, duration, Show, Table, Time, useGet } from "../ui";

export function Pipelines() {
  const { project, access, tq, target } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const list = useGet(`${base}/pipelines${tq()}`, 10_000);
  const [chosen, setChosen] = useState<string | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  return (
    <>
      <h1>Pipelines</h1>
      <Show l={list}>
        {(d: any) => (
          <Table
            testid="pipelines"
            rows={d.pipelines}
            empty="No pipelines deployed on this target."
            cols={[
              ["Pipeline", (p: any) => <button class="link" onClick={() => (setChosen(p.name), setRunId(null))}>{p.name}</button>],
              ["Stages", (p: any) => p.stages.map((s: any) => s.name).join(" → ")],
              ["Triggers", (p: any) => p.triggers.join(", ") || "manual"],
              ["Last run", (p: any) => (p.last_run ? <><Badge value={p.last_run.status} /> <Time at={p.last_run.created_at} /></> : "—")],
              [
                "",
                (p: any) =>
                  can(access, "CAN_RUN", `pipeline.${p.name}`) && (
                    <Action
                      label="Run"
                      testid={`pipeline-run-${p.name}`}
                      run={async () => {
                        const r = await api("POST", `${base}/pipelines/${encodeURIComponent(p.name)}/runs`, { target });
                        setChosen(p.name);
                        setRunId(r.id);
                        list.reload();
                      }}
                    />
                  ),
              ],
            ]}
          />
        )}
      </Show>
      {chosen && <Runs base={base} name={chosen} onPick={setRunId} />}
      {runId && <PipelineRun base={base} id={runId} />}
    </>
  );
}

function Runs({ base, name, onPick }: { base: string; name: string; onPick: (id: string) => void }) {
  const { tq } = useApp();
  const runs = useGet(`${base}/pipelines/${encodeURIComponent(name)}/runs${tq({ limit: 20 })}`, 5_000);
  return (
    <section>
      <h2>{name}: runs</h2>
      <Show l={runs}>
        {(d: any) => (
          <Table
            rows={d.runs}
            cols={[
              ["Run", (r: any) => <button class="link" onClick={() => onPick(r.id)}>{r.id}</button>],
              ["Status", (r: any) => <Badge value={r.status} />],
              ["Trigger", (r: any) => r.trigger],
              ["By", (r: any) => r.user],
              ["Created", (r: any) => <Time at={r.created_at} />],
              ["Duration", (r: any) => duration(r.duration_ms)],
            ]}
          />
        )}
      </Show>
    </section>
  );
}

/** Stages in columns by depth (a stage sits right of everything it depends on). */
function StageGraph({ stages }: { stages: any[] }) {
  const depth = new Map<string, number>();
  const of = (name: string, seen = new Set<string>()): number => {
    if (depth.has(name)) return depth.get(name)!;
    if (seen.has(name)) return 0;
    seen.add(name);
    const s = stages.find((x) => x.name === name);
    const d = s && s.depends_on.length ? 1 + Math.max(...s.depends_on.map((p: string) => of(p, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  stages.forEach((s) => of(s.name));
  const columns: any[][] = [];
  for (const s of stages) (columns[depth.get(s.name)!] ??= []).push(s);
  return (
    <div class="graph" data-testid="stage-graph">
      {columns.map((col, i) => (
        <div class="graph-col" key={i}>
          {col.map((s) => (
            <div class={`stage ${s.status}`} key={s.name} title={s.message ?? ""}>
              <strong>{s.name}</strong>
              <div class="muted">{s.type}{s.target ? ` → ${s.target}` : ""}</div>
              <Badge value={s.status} /> {duration(s.duration_ms)}
              {s.depends_on.length > 0 && <div class="muted small">after {s.depends_on.join(", ")}</div>}
            </div>
          ))}
        </div>
      ))}
    </div>
  );
}

function PipelineRun({ base, id }: { base: string; id: string }) {
  const { me, access, tq, target } = useApp();
  const run = useGet(`${base}/pipeline-runs/${encodeURIComponent(id)}${tq()}`, 2_000);
  return (
    <section>
      <h2>Pipeline run {id}</h2>
      <Show l={run}>
        {(r: any) => (
          <>
            <p>
              <Badge value={r.status} /> by {r.user} · <Time at={r.created_at} /> {r.reason && <span class="muted">· {r.reason}</span>}
            </p>
            <StageGraph stages={r.stages ?? []} />
            {(r.stages ?? [])
              .filter((s: any) => s.type === "approval" && s.status === "waiting" && s.approval)
              .map((s: any) => {
                const selfReview = s.approval.prevent_self_review && r.user === me.user;
                const mayDecide = !selfReview && can(access, "CAN_MANAGE") && (me.admin || s.approval.approvers.includes(me.user) || me.groups.some((g) => s.approval.approvers.includes(g) || s.approval.approvers.includes(`group:${g}`)));
                return (
                  <div class="card" key={s.name} data-testid={`approval-${s.name}`}>
                    <strong>Approval {s.name}</strong> for {s.approval.target}: {s.approval.decisions.length}/{s.approval.required} · approvers {s.approval.approvers.join(", ")}
                    {s.approval.message && <p>{s.approval.message}</p>}
                    {s.approval.plan.map((p: any) => (
                      <p key={p.target} class="muted">
                        {p.target}: +{p.create} ~{p.update + p.replace} -{p.delete}
                      </p>
                    ))}
                    {selfReview && <p class="muted">You started this run: another approver decides.</p>}
                    {mayDecide && (
                      <div class="row">
                        <Action label="Approve" testid="approve" run={() => api("POST", `${base}/pipeline-runs/${encodeURIComponent(id)}/approve`, { target, stage: s.name }).then(run.reload)} />
                        <Action label="Reject" kind="danger" testid="reject" run={() => api("POST", `${base}/pipeline-runs/${encodeURIComponent(id)}/reject`, { target, stage: s.name }).then(run.reload)} />
                      </div>
                    )}
                  </div>
                );
              })}
          </>
        )}
      </Show>
    </section>
  );
}
