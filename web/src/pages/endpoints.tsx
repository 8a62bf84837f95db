// Endpoints: served versions and traffic split, readiness, TTL, request rate, latency (p50/p99) and
// error rate over time from the inference table, and the latest requests.
import { useApp } from "../context";
import { Badge, Chart, Countdown, Show, Table, Time, useGet } from "../ui";
import { TokenList } from "./admin";

function Metrics({ base, name }: { base: string; name: string }) {
  const { tq } = useApp();
  const m = useGet(`${base}/endpoints/${encodeURIComponent(name)}/metrics${tq({ bucket_s: 60 })}`, 30_000);
  const logs = useGet(`${base}/endpoints/${encodeURIComponent(name)}/logs${tq({ limit: 20 })}`, 30_000);
  return (
    <section data-testid={`endpoint-${name}`}>
      <h2>{name}</h2>
      <Show l={m}>
        {(d: any) => {
          const x = d.series.map((s: any) => Date.parse(s.at) / 1000);
          return d.series.length ? (
            <div class="charts">
              <Chart testid="rate-chart" title="requests per second" x={x} series={[{ label: "req/s", values: d.series.map((s: any) => s.rate_per_s) }]} />
              <Chart testid="latency-chart" title="latency (ms)" x={x} series={[{ label: "p50", values: d.series.map((s: any) => s.p50_ms) }, { label: "p99", values: d.series.map((s: any) => s.p99_ms) }]} />
              <Chart testid="error-chart" title="error rate" x={x} series={[{ label: "errors", values: d.series.map((s: any) => s.error_rate) }]} />
            </div>
          ) : (
            <p class="muted">No requests in the inference table yet.</p>
          );
        }}
      </Show>
      <h3>Recent requests</h3>
      <Show l={logs}>
        {(d: any) => (
          <Table
            testid="requests"
            rows={[...d.requests].reverse()}
            cols={[
              ["At", (r: any) => <Time at={r.timestamp} />],
              ["Version", (r: any) => `${r.model}@${r.model_version}`],
              ["Status", (r: any) => <Badge value={r.status < 400 ? "ok" : String(r.status)} />],
              ["Latency", (r: any) => `${r.latency_ms.toFixed(1)} ms`],
              ["Request", (r: any) => <code class="clip">{r.request ?? "—"}</code>],
            ]}
          />
        )}
      </Show>
    </section>
  );
}

export function Endpoints() {
  const { project, tq } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const eps = useGet(`${base}/endpoints${tq()}`, 10_000);
  return (
    <>
      <h1>Endpoints</h1>
      <Show l={eps}>
        {(d: any) => (
          <>
            <Table
              testid="endpoints"
              rows={d.endpoints}
              empty="No endpoints deployed."
              cols={[
                ["Endpoint", (e: any) => e.name],
                ["Ready", (e: any) => <Badge value={e.served.some((s: any) => s.ready) ? "ready" : "not_ready"} />],
                ["Served (traffic)", (e: any) => e.served.map((s: any) => <div key={`${s.model}${s.version}`}>{s.model}@{s.version}: {s.percent}% {s.ready ? "" : <Badge value="not_ready" />}</div>)],
                ["URL", (e: any) => <code>{e.url}</code>],
                ["TTL", (e: any) => (e.expires_at ? <Countdown at={e.expires_at} /> : "none")],
                ["Owner", (e: any) => e.owner ?? "—"],
                ["Deployed", (e: any) => <Time at={e.deployed_at} />],
              ]}
            />
            {d.endpoints.map((e: any) => <Metrics key={e.name} base={base} name={e.name} />)}
          </>
        )}
      </Show>
      <h2>Your tokens</h2>
      <p class="muted">Tokens call endpoints (Authorization: Bearer …) and the API.</p>
      <TokenList />
    </>
  );
}
