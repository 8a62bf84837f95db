// Jobs and runs: deployed jobs (title, schedules and their next fire time) with a run button for those
// allowed; the runs; and a run's page: its tasks as a timeline, logs that follow live (server-sent
// events), results, provenance and archived outputs, and a cancel button.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, qs } from "../api";
import { navigate } from "../router";
import { can, useApp } from "../context";
import { Action, Badge, duration, ErrorBox, Json, Show, Table, Time, useGet } from "../ui";
import { RunsTable } from "./overview";

export function Jobs() {
  const { project, target, access, link, tq } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const jobs = useGet(`${base}/jobs${tq()}`);
  const schedules = useGet(`${base}/schedules${tq()}`, 30_000);
  const runs = useGet(`${base}/runs${tq({ limit: 100 })}`, 5_000);
  const nextOf = (name: string) => (schedules.data as any)?.schedules?.find((s: any) => s.name === name);
  return (
    <>
      <h1>Jobs</h1>
      <Show l={jobs}>
        {(d: any) => (
          <Table
            testid="jobs"
            rows={d.jobs}
            empty="No jobs deployed."
            cols={[
              ["Job", (j: any) => <code>{j.name}</code>],
              ["Title", (j: any) => j.title ?? <span class="muted">—</span>],
              ["Module", (j: any) => j.module],
              [
                "Schedules (next fire)",
                (j: any) =>
                  j.schedules.length
                    ? j.schedules.map((s: any) => {
                        const name = typeof s === "string" ? s : s.name;
                        const sch = nextOf(name);
                        return (
                          <div key={name}>
                            {name} {sch?.cron && <code>{sch.cron}</code>} {sch?.paused ? <Badge value="paused" /> : <Time at={sch?.next_at} />}
                          </div>
                        );
                      })
                    : "—",
              ],
              ["Last run", (j: any) => (j.last_run ? <a href={link(`/runs/${j.last_run.id}`)}><Badge value={j.last_run.status} /></a> : "—")],
              [
                "",
                (j: any) =>
                  can(access, "CAN_RUN", `job.${j.name}`) && (
                    <Action
                      label="Run"
                      testid={`run-${j.name}`}
                      run={async () => {
                        const r = await api("POST", `${base}/runs`, { target, job: j.name });
                        navigate(link(`/runs/${r.id}`));
                      }}
                    />
                  ),
              ],
            ]}
          />
        )}
      </Show>
      <h2>Runs</h2>
      <Show l={runs}>{(d: any) => <RunsTable runs={d.runs} link={link} testid="runs" />}</Show>
    </>
  );
}

const FINISHED = new Set(["succeeded", "failed", "cancelled", "lost"]);

/** The tasks as bars on one time axis: when each started, how long it took, cached or retried. */
function Timeline({ run }: { run: any }) {
  const t0 = Date.parse(run.started_at ?? run.created_at);
  const end = Math.max(t0 + 1, ...run.tasks.map((t: any) => Date.parse(t.finished_at ?? "") || Date.now()));
  const span = end - t0;
  return (
    <div class="timeline" data-testid="timeline">
      {run.tasks.map((t: any) => {
        const s = t.started_at ? Date.parse(t.started_at) - t0 : 0;
        const d = t.duration_ms ?? (t.started_at ? Date.now() - Date.parse(t.started_at) : 0);
        return (
          <div class="tl-row" key={t.task}>
            <span class="tl-name">{t.task}</span>
            <span class="tl-track">
              <span class={`tl-bar ${t.status}`} style={{ left: `${(100 * s) / span}%`, width: `${Math.max(0.5, (100 * d) / span)}%` }} title={`${t.task}: ${t.status}, started +${duration(s)}, ${duration(d)}`} />
            </span>
            <span class="tl-info">
              <Badge value={t.status} /> +{duration(s)} · {duration(t.duration_ms)}
              {t.cached_from && <span class="badge">cached from {t.cached_from}</span>}
              {t.attempts > 1 && <span class="badge warn">retried ×{t.attempts - 1}</span>}
            </span>
          </div>
        );
      })}
    </div>
  );
}

/** Log lines as they come (server-sent events), until the run has finished. */
function LiveLogs({ base, id }: { base: string; id: string }) {
  const { target } = useApp();
  const [lines, setLines] = useState<Array<{ task: string; line: string }>>([]);
  const [state, setState] = useState<"following" | "finished" | "error">("following");
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setLines([]);
    setState("following");
    const es = new EventSource(`/api/v1${base}/runs/${encodeURIComponent(id)}/events${qs({ target })}`);
    es.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.line !== undefined) setLines((l) => [...l, m]);
      else if (m.failure) setState("error");
    };
    es.addEventListener("end", () => {
      setState((s) => (s === "error" ? s : "finished"));
      es.close();
    });
    es.onerror = () => {
      es.close();
      setState((s) => (s === "following" ? "error" : s));
    };
    return () => es.close();
  }, [base, id, target]);
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines.length]);
  return (
    <>
      <h2>
        Logs <span class="badge" data-testid="log-state">{state}</span>
      </h2>
      <pre class="log" ref={box} data-testid="logs">
        {lines.map((l) => `[${l.task}] ${l.line}`).join("\n")}
      </pre>
    </>
  );
}

export function RunPage({ id }: { id: string }) {
  const { project, target, access, tq } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const [finished, setFinished] = useState(false);
  const run = useGet(`${base}/runs/${encodeURIComponent(id)}${tq()}`, finished ? undefined : 1_000);
  const [cancelError, setCancelError] = useState<Error>();
  useEffect(() => {
    const s = (run.data as any)?.status;
    if (s && FINISHED.has(s)) setFinished(true);
  }, [(run.data as any)?.status]);
  return (
    <>
      <h1>
        Run <code>{id}</code>
      </h1>
      <Show l={run}>
        {(r: any) => (
          <>
            <p>
              <code>{r.job}</code> <Badge value={r.status} /> · {r.trigger}
              {r.schedule ? ` (${r.schedule})` : ""} · started <Time at={r.started_at} /> · {duration(r.duration_ms)}
              {r.reason && <span class="muted"> · {r.reason}</span>}
            </p>
            <p class="muted">params: {Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ") || "none"}</p>
            {!FINISHED.has(r.status) && can(access, "CAN_RUN", `job.${r.job}`) && (
              <Action label="Cancel run" kind="danger" testid="cancel" run={() => api("POST", `${base}/runs/${encodeURIComponent(id)}/cancel`, { target }).then(run.reload, setCancelError)} />
            )}
            {cancelError && <ErrorBox error={cancelError} />}
            <h2>Tasks</h2>
            <Timeline run={r} />
          </>
        )}
      </Show>
      <LiveLogs base={base} id={id} />
      {run.data && (
        <>
          <h2>Results</h2>
          <div data-testid="results">{(run.data as any).results ? <Json value={(run.data as any).results} /> : <p class="muted">none</p>}</div>
          <h2>Archived outputs</h2>
          <Table
            testid="outputs"
            rows={Object.entries(((run.data as any).provenance?.outputs ?? {}) as Record<string, string>)}
            empty="No outputs archived."
            cols={[
              ["File", ([f]) => <code>{f}</code>],
              ["sha256", ([, h]) => <code class="hash">{h}</code>],
            ]}
          />
          <details>
            <summary>Provenance</summary>
            <Json value={(run.data as any).provenance} />
          </details>
        </>
      )}
    </>
  );
}
