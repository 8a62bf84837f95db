// Modules: each module's status, its hooks with their last output, and the settings table.
import { useApp } from "../context";
import { Badge, Show, Table, Time, useGet } from "../ui";

export function Modules() {
  const { project, tq } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const status = useGet(`${base}/status${tq()}`);
  const hooks = useGet(`${base}/hooks${tq()}`);
  const settings = useGet(`${base}/settings${tq()}`);
  return (
    <>
      <h1>Modules</h1>
      <Show l={status}>
        {(d: any) => (
          <Table
            testid="modules"
            rows={d.modules}
            cols={[
              ["Module", (m: any) => m.name],
              ["Status", (m: any) => <Badge value={m.deployed ? "deployed" : "not deployed"} />],
              ["Resources", (m: any) => m.resources],
              ["Depends on", (m: any) => m.depends_on.join(", ") || "—"],
              ["Deployed", (m: any) => <Time at={m.deployed_at} />],
            ]}
          />
        )}
      </Show>
      <h2>Hooks</h2>
      <Show l={hooks}>
        {(d: any) => (
          <Table
            testid="hooks"
            rows={d.hooks}
            empty="No hooks deployed."
            cols={[
              ["Hook", (h: any) => h.address],
              ["Exit code", (h: any) => <Badge value={h.exit_code === 0 ? "ok" : h.exit_code === null ? "—" : `exit ${h.exit_code}`} />],
              ["Last run", (h: any) => <Time at={h.updated_at} />],
              ["Last output", (h: any) => (h.output.length ? <pre class="log small">{h.output.join("\n")}</pre> : <span class="muted">none kept</span>)],
            ]}
          />
        )}
      </Show>
      <h2>Settings</h2>
      <Show l={settings}>
        {(d: any) => (
          <Table
            testid="settings"
            rows={d.settings}
            cols={[
              ["Module", (s: any) => s.module],
              ["Key", (s: any) => <code>{s.key}</code>],
              ["Value", (s: any) => <code>{s.value}</code>],
            ]}
          />
        )}
      </Show>
    </>
  );
}
