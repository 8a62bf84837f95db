// Models: versions with their metrics, a chart of one metric across versions, aliases (moved by those
// allowed), and each version's lineage: the run and bundle that produced it.
import { useState } from "preact/hooks";
import { api } from "../api";
import { can, useApp } from "../context";
import { Action, Chart, Show, Table, Time, useGet } from "../ui";

export function Models() {
  const { project, tq } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const models = useGet(`${base}/models${tq()}`);
  const [chosen, setChosen] = useState<string | null>(null);
  return (
    <>
      <h1>Models</h1>
      <Show l={models}>
        {(d: any) => {
          const model = chosen ?? d.models[0]?.model ?? null;
          return (
            <>
              <Table
                testid="models"
                rows={d.models}
                empty="No models registered."
                cols={[
                  ["Model", (m: any) => <button class="link" onClick={() => setChosen(m.model)}>{m.model}</button>],
                  ["Registered name", (m: any) => <code>{m.registered_name}</code>],
                  ["Latest", (m: any) => m.latest_version ?? "—"],
                  ["Versions", (m: any) => m.versions],
                  ["Aliases", (m: any) => Object.entries(m.aliases).map(([a, v]) => <span key={a} class="badge">{a} → {String(v)}</span>)],
                ]}
              />
              {model && <Versions key={model} base={base} model={model} />}
            </>
          );
        }}
      </Show>
    </>
  );
}

function Versions({ base, model }: { base: string; model: string }) {
  const { access, link, tq, target } = useApp();
  const versions = useGet(`${base}/models/${encodeURIComponent(model)}/versions${tq()}`);
  const [metric, setMetric] = useState<string | null>(null);
  const [moved, setMoved] = useState<string | null>(null);
  return (
    <section>
      <h2>{model}: versions</h2>
      <Show l={versions}>
        {(d: any) => {
          const list = [...d.versions].sort((a: any, b: any) => a.version - b.version);
          const metrics = [...new Set(list.flatMap((v: any) => Object.keys(v.metrics ?? {})))] as string[];
          const m = metric ?? metrics[0] ?? null;
          const aliases = [...new Set(list.flatMap((v: any) => v.aliases))] as string[];
          return (
            <>
              <Table
                testid="versions"
                rows={[...list].reverse()}
                cols={[
                  ["Version", (v: any) => v.version],
                  ["Aliases", (v: any) => v.aliases.map((a: string) => <span key={a} class="badge ok" data-testid={`alias-${a}`}>{a}</span>)],
                  ["Metrics", (v: any) => Object.entries(v.metrics ?? {}).map(([k, x]) => <div key={k}>{k}: {typeof x === "number" ? x.toFixed(4) : String(x)}</div>)],
                  ["Flavor", (v: any) => v.flavor],
                  ["Run", (v: any) => (v.lineage?.run ? <a href={link(`/runs/${v.lineage.run}`)}>{v.lineage.run}</a> : "—")],
                  ["Bundle", (v: any) => (v.lineage?.bundle ? <code class="hash" title={v.lineage.bundle}>{v.lineage.bundle.slice(0, 12)}</code> : "—")],
                  ["Created", (v: any) => <Time at={v.created_at} />],
                ]}
              />
              {m && (
                <>
                  <label class="row">
                    Metric
                    <select data-testid="metric" value={m} onChange={(e) => setMetric((e.target as HTMLSelectElement).value)}>
                      {metrics.map((x) => <option key={x} value={x}>{x}</option>)}
                    </select>
                  </label>
                  <Chart testid="metric-chart" title={`${model}: ${m} by version`} x={list.map((v: any) => v.version)} series={[{ label: m, values: list.map((v: any) => (typeof v.metrics?.[m] === "number" ? v.metrics[m] : null)) }]} />
                </>
              )}
              {can(access, "CAN_MANAGE", `model.${model}`) && (
                <form
                  class="row card"
                  data-testid="alias-form"
                  onSubmit={(e) => e.preventDefault()}
                >
                  <strong>Move an alias</strong>
                  <input name="alias" list="aliases" placeholder="champion" data-testid="alias-name" defaultValue={aliases[0] ?? "champion"} />
                  <datalist id="aliases">{aliases.map((a) => <option key={a} value={a} />)}</datalist>
                  to version
                  <select name="version" data-testid="alias-version">{[...list].reverse().map((v: any) => <option key={v.version} value={v.version}>{v.version}</option>)}</select>
                  <Action
                    label="Move"
                    testid="alias-move"
                    run={async () => {
                      const form = document.querySelector<HTMLFormElement>("[data-testid=alias-form]")!;
                      const f = new FormData(form);
                      const alias = String(f.get("alias")).trim();
                      const r = await api("PUT", `${base}/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`, { target, version: Number(f.get("version")) });
                      setMoved(`${alias} → ${r.version ?? f.get("version")}`);
                      versions.reload();
                    }}
                  />
                  {moved && <span class="badge ok" data-testid="alias-moved">moved {moved}</span>}
                </form>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}
