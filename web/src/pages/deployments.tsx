// Deployments: the revision history of the target, the difference between any two revisions (resources
// added, removed, changed, with their fields), and a rollback that shows its plan first.
import { useState } from "preact/hooks";
import { api } from "../api";
import { can, useApp } from "../context";
import { Action, Badge, ErrorBox, Show, Table, Time, useGet } from "../ui";

function Diff({ d }: { d: any }) {
  const none = !d.added.length && !d.removed.length && !d.changed.length;
  return (
    <div class="diff" data-testid="diff">
      {none && <p class="muted">No difference between revision {d.from} and revision {d.to}.</p>}
      {d.added.map((r: any) => <div key={r.address} class="add">+ {r.address}</div>)}
      {d.removed.map((r: any) => <div key={r.address} class="del">− {r.address}</div>)}
      {d.changed.map((c: any) => (
        <div key={c.address} class="chg">
          ~ {c.address}
          <ul>
            {c.fields.map((f: any) => (
              <li key={f.field}>
                <code>{f.field}</code>: <span class="del">{JSON.stringify(f.from)}</span> → <span class="add">{JSON.stringify(f.to)}</span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

export function Deployments() {
  const { project, access, tq } = useApp();
  const base = `/projects/${encodeURIComponent(project!)}`;
  const history = useGet(`${base}/history${tq({ limit: 100 })}`);
  const [pair, setPair] = useState<{ from: number; to: number } | null>(null);
  const diff = useGet(pair ? `${base}/revisions/diff${tq({ from: pair.from, to: pair.to })}` : null);
  const [rollbackTo, setRollbackTo] = useState<number | null>(null);
  const [outcome, setOutcome] = useState<any>(null);
  const manage = can(access, "CAN_MANAGE");

  return (
    <>
      <h1>Deployments</h1>
      <Show l={history}>
        {(d: any) => {
          const revisions: number[] = d.deployments.map((x: any) => x.revision).filter((r: number | null) => r !== null);
          const latest = revisions[0];
          return (
            <>
              <Table
                testid="history"
                rows={d.deployments}
                cols={[
                  ["Revision", (r: any) => r.revision ?? "—"],
                  ["Operation", (r: any) => r.operation + (r.options?.rollback_to ? ` to ${r.options.rollback_to}` : "")],
                  ["Status", (r: any) => <Badge value={r.status} />],
                  ["By", (r: any) => r.user],
                  ["Started", (r: any) => <Time at={r.started_at} />],
                  ["Changes", (r: any) => `+${r.summary.create} ~${r.summary.update + r.summary.replace} -${r.summary.delete}`],
                  [
                    "",
                    (r: any) => (
                      <>
                        {r.revision !== null && latest !== undefined && r.revision !== latest && (
                          <button class="link" data-testid={`diff-${r.revision}`} onClick={() => setPair({ from: r.revision, to: latest })}>
                            diff to latest
                          </button>
                        )}
                        {manage && r.revision !== null && r.revision !== latest && (
                          <button data-testid={`rollback-${r.revision}`} onClick={() => (setRollbackTo(r.revision), setOutcome(null))}>
                            Roll back…
                          </button>
                        )}
                      </>
                    ),
                  ],
                ]}
              />
              {revisions.length > 1 && (
                <form
                  class="row"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const f = new FormData(e.target as HTMLFormElement);
                    setPair({ from: Number(f.get("from")), to: Number(f.get("to")) });
                  }}
                >
                  Compare revision
                  <select name="from" data-testid="diff-from">{revisions.map((r) => <option key={r} value={r} selected={r === revisions[1]}>{r}</option>)}</select>
                  with
                  <select name="to" data-testid="diff-to">{revisions.map((r) => <option key={r} value={r}>{r}</option>)}</select>
                  <button type="submit" data-testid="diff-show">Show the difference</button>
                </form>
              )}
              {pair && (
                <section>
                  <h2>From revision {pair.from} to revision {pair.to}</h2>
                  <Show l={diff}>{(x: any) => <Diff d={x} />}</Show>
                </section>
              )}
              {rollbackTo !== null && latest !== undefined && <Rollback base={base} from={latest} to={rollbackTo} onDone={(o) => (setOutcome(o), setRollbackTo(null), history.reload())} onCancel={() => setRollbackTo(null)} />}
              {outcome && (
                <p data-testid="rollback-outcome">
                  Rolled back: <Badge value={outcome.status} /> {outcome.revision ? `now revision ${outcome.revision}` : ""}
                </p>
              )}
            </>
          );
        }}
      </Show>
    </>
  );
}

/** The rollback's plan (what changes from the latest revision back to `to`), then the button that applies it. */
function Rollback({ base, from, to, onDone, onCancel }: { base: string; from: number; to: number; onDone: (o: any) => void; onCancel: () => void }) {
  const { tq, target } = useApp();
  const plan = useGet(`${base}/revisions/diff${tq({ from, to })}`);
  const [error, setError] = useState<Error | undefined>();
  return (
    <section class="card" data-testid="rollback-plan">
      <h2>Roll back to revision {to}: the plan</h2>
      <Show l={plan}>{(d: any) => <Diff d={d} />}</Show>
      <div class="row">
        <Action
          label={`Roll back to revision ${to}`}
          kind="danger"
          testid="rollback-confirm"
          run={async () => {
            try {
              onDone(await api("POST", `${base}/rollback`, { target, to, yes: true }));
            } catch (e) {
              setError(e as Error);
            }
          }}
        />
        <button onClick={onCancel}>Cancel</button>
      </div>
      {error && <ErrorBox error={error} />}
    </section>
  );
}
