// Overview: every target the user may view (what is deployed, the lock, the target's time limit and
// endpoints whose TTL will delete them, with a live countdown), then the selected target's recent deployments, runs and failures.
import { qs } from "../api";
import { useApp } from "../context";
import { Badge, Countdown, duration, Show, Table, Time, useGet } from "../ui";

function TargetCard({ project, target }: { project: string; target: string }) {
  const s = useGet(`/projects/${encodeURIComponent(project)}/status${qs({ target })}`, 10_000);
  return (
    <section class="card" data-testid={`target-${project}-${target}`}>
      <h3>
        <a href={`/deployments${qs({ p: project, t: target })}`}>{project} / {target}</a>
      </h3>
      <Show l={s}>
        {(d: any) => (
          <>
            <p>
              {d.revision ? <>revision <strong>{d.revision}</strong> · {Object.values(d.resources as Record<string, number>).reduce((a, b) => a + b, 0)} resources · {d.modules.filter((m: any) => m.deployed).length} modules</> : <span class="muted">nothing deployed</span>}
              {d.protected && <span class="badge warn">protected</span>}
            </p>
            <p>
              lock: {d.lock ? <span class="badge run" data-testid="lock">{d.lock.user} ({d.lock.operation}) since <Time at={d.lock.since} /></span> : <span class="muted">free</span>}
            </p>
            {d.ttl?.scope === "target" && (d.ttl.pinned_by ? (
              <p data-testid="target-ttl">
                time limit ({d.ttl.after}) pinned by {d.ttl.pinned_by}
              </p>
            ) : d.ttl.due_at ? (
              <p data-testid="target-ttl">
                everything here is destroyed by its time limit in <Countdown at={d.ttl.due_at} />
                {d.ttl.status === "retrying" && <span class="badge warn">retrying: {d.ttl.last_error}</span>}
              </p>
            ) : null)}
            {d.endpoints.filter((e: any) => e.expires_at).map((e: any) => (
              <p key={e.name}>
                <a href={`/endpoints${qs({ p: project, t: target })}`}>{e.name}</a> deleted by its TTL in <Countdown at={e.expires_at} />
              </p>
            ))}
          </>
        )}
      </Show>
    </section>
  );
}

export function Overview() {
  const { projects, project, target, link, tq } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const history = useGet(`${base}/history${tq({ limit: 5 })}`, 10_000);
  const runs = useGet(`${base}/runs${tq({ limit: 50 })}`, 5_000);
  return (
    <>
      <h1>Overview</h1>
      <div class="cards">{projects.flatMap((p) => p.targets.map((t) => <TargetCard key={`${p.name}/${t.name}`} project={p.name} target={t.name} />))}</div>
      <h2>Recent deployments on {project}/{target}</h2>
      <Show l={history}>
        {(d: any) => (
          <Table
            testid="recent-deployments"
            rows={d.deployments}
            cols={[
              ["Revision", (r: any) => r.revision ?? "—"],
              ["Operation", (r: any) => r.operation],
              ["Status", (r: any) => <Badge value={r.status} />],
              ["By", (r: any) => r.user],
              ["Started", (r: any) => <Time at={r.started_at} />],
              ["Changes", (r: any) => `+${r.summary.create} ~${r.summary.update + r.summary.replace} -${r.summary.delete}`],
            ]}
          />
        )}
      </Show>
      <Show l={runs}>
        {(d: any) => (
          <>
            <h2>Recent runs</h2>
            <RunsTable runs={d.runs.slice(0, 10)} link={link} testid="recent-runs" />
            <h2>Failures</h2>
            <RunsTable runs={d.runs.filter((r: any) => r.status === "failed" || r.status === "lost").slice(0, 10)} link={link} empty="No failed run among the latest 50." testid="failures" />
          </>
        )}
      </Show>
    </>
  );
}

export function RunsTable({ runs, link, empty, testid }: { runs: any[]; link: (p: string) => string; empty?: string; testid?: string }) {
  return (
    <Table
      testid={testid}
      rows={runs}
      empty={empty ?? "No runs yet."}
      cols={[
        ["Run", (r: any) => <a href={link(`/runs/${r.id}`)}>{r.id}</a>],
        ["Job", (r: any) => r.job],
        ["Status", (r: any) => <Badge value={r.status} />],
        ["Trigger", (r: any) => r.trigger + (r.schedule ? ` (${r.schedule})` : "")],
        ["Started", (r: any) => <Time at={r.started_at ?? r.created_at} />],
        ["Duration", (r: any) => duration(r.duration_ms)],
      ]}
    />
  );
}
