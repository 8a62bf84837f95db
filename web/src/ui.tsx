// Shared pieces of the pages: loading data, tables, badges, times and countdowns, errors, buttons.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get } from "./api";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  reload: () => void;
}

/** GETs `path` (again every `everyMs` when given, and on reload()); null path: nothing yet. */
export function useGet<T = any>(path: string | null, everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    const load = () =>
      get<T>(path).then(
        (d) => live && (setData(d), setError(undefined)),
        (e: Error) => live && setError(e),
      );
    void load();
    const timer = everyMs ? setInterval(load, everyMs) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [path, n, everyMs]);
  useEffect(() => setData(undefined), [path]);
  return { data, error, reload: useCallback(() => setN((x) => x + 1), []) };
}

export function Show<T>({ l, children }: { l: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (l.error) return <ErrorBox error={l.error} />;
  if (l.data === undefined) return <p class="muted">Loading…</p>;
  return <>{children(l.data)}</>;
}

export function ErrorBox({ error }: { error: Error }) {
  const e = error as ApiError;
  return (
    <div class="error" role="alert">
      <strong>{e.code ?? "error"}</strong>: {e.message}
      {e.hint && <div class="muted">{e.hint}</div>}
    </div>
  );
}

export function Table<R>({ rows, cols, empty, testid }: { rows: R[]; cols: Array<[string, (r: R) => ComponentChildren]>; empty?: string; testid?: string }) {
  if (!rows.length) return <p class="muted">{empty ?? "Nothing yet."}</p>;
  return (
    <table data-testid={testid}>
      <thead>
        <tr>{cols.map(([h]) => <th key={h}>{h}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>{cols.map(([h, f]) => <td key={h}>{f(r)}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

const TONES: Record<string, string> = { succeeded: "ok", ready: "ok", ok: "ok", deployed: "ok", running: "run", queued: "run", waiting: "run", restoring: "run", failed: "bad", lost: "bad", cancelled: "warn", not_ready: "bad", rejected: "bad", approved: "ok" };
export function Badge({ value }: { value: string | null | undefined }) {
  const v = value ?? "—";
  return <span class={`badge ${TONES[v] ?? ""}`}>{v}</span>;
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const d = new Date(at);
  return <time dateTime={at} title={at}>{d.toLocaleString()}</time>;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Time left until `at`, ticking every second. */
export function Countdown({ at }: { at: string }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Date.parse(at) - now;
  if (left <= 0) return <span class="badge bad" data-testid="countdown">expired</span>;
  const s = Math.floor(left / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return (
    <span class="badge warn" data-testid="countdown" title={at}>
      {h}h {String(m).padStart(2, "0")}m {String(s % 60).padStart(2, "0")}s
    </span>
  );
}

/** A button that runs an async action, shows that it is busy, and reports its error. */
export function Action({ label, run, confirm: ask, testid, kind }: { label: string; run: () => Promise<unknown>; confirm?: string; testid?: string; kind?: "danger" }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  return (
    <span>
      <button
        class={kind}
        data-testid={testid}
        disabled={busy}
        onClick={async () => {
          if (ask && !window.confirm(ask)) return;
          setBusy(true);
          setError(undefined);
          try {
            await run();
          } catch (e) {
            setError(e as Error);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? "…" : label}
      </button>
      {error && <ErrorBox error={error} />}
    </span>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** A line chart (uPlot, loaded on first use so the first page stays small). */
export function Chart({ title, x, series, testid }: { title: string; x: number[]; series: Array<{ label: string; values: Array<number | null> }>; testid?: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: { destroy(): void } | undefined;
    let live = true;
    void Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([{ default: UPlot }]) => {
      if (!live || !el.current) return;
      const colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];
      plot = new UPlot(
        {
          title,
          width: Math.max(320, el.current.clientWidth || 640),
          height: 220,
          series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2, points: { show: true } }))],
          // Time on x (seconds) for series over time, else whole numbers (model versions); one point gets room around it.
          scales: { x: { time: x.length > 0 && x[0]! > 1e8, range: (_u: unknown, min: number, max: number) => (min === max ? [min - (min > 1e8 ? 300 : 1), max + (min > 1e8 ? 300 : 1)] : [min, max]) } },
          axes: x.length > 0 && x[0]! > 1e8 ? undefined : [{ incrs: [1, 2, 5, 10, 20, 50, 100], values: (_u: unknown, vals: number[]) => vals.map((v) => String(v)) }, {}],
        },
        [x, ...series.map((s) => s.values)] as never,
        el.current,
      );
    });
    return () => {
      live = false;
      plot?.destroy();
    };
  }, [title, JSON.stringify(x), JSON.stringify(series)]);
  return <div class="chart" ref={el} data-testid={testid} />;
}
