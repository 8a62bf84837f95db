// Apps: each app deployed to the target (docs/apps.md) with its state, its address under /apps/NAME/,
// ready replicas, restarts since the server started it, and its latest log lines.
import { useApp } from "../context";
import { Badge, Show, Table, Time, useGet } from "../ui";

export function Apps() {
  const { project, tq } = useApp();
  const apps = useGet(`/projects/${encodeURIComponent(project!)}/apps${tq()}`, 5_000);
  return (
    <>
      <h1>Apps</h1>
      <Show l={apps}>
        {(d: any) => (
          <>
            <Table
              testid="apps"
              rows={d.apps}
              empty="No apps deployed."
              cols={[
                ["App", (a: any) => a.name],
                ["State", (a: any) => <Badge value={a.state} />],
                ["Address", (a: any) => <a href={`/apps/${encodeURIComponent(a.name)}/`}>{`/apps/${a.name}/`}</a>],
                ["Replicas", (a: any) => `${a.ready_replicas}/${a.replicas} ready`],
                ["Restarts", (a: any) => a.restarts],
                ["Access", (a: any) => (a.anonymous ? "anyone" : "CAN_USE")],
                ["Owner", (a: any) => a.owner ?? "—"],
                ["Deployed", (a: any) => <Time at={a.deployed_at} />],
              ]}
            />
            {d.apps.map((a: any) => (
              <section key={a.name} data-testid={`app-${a.name}`}>
                <h2>{a.name}: recent log</h2>
                {a.message && <p class="badge warn">{a.message}</p>}
                <pre class="log">{a.recent_logs.length ? a.recent_logs.join("\n") : "(no output yet)"}</pre>
              </section>
            ))}
          </>
        )}
      </Show>
    </>
  );
}
