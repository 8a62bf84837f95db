// The dashboard's shell: sign-in gate, navigation, the project/target picker, and the page for the path.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, get, qs } from "./api";
import { AppContext, type Access, type Ctx, type Me } from "./context";
import { navigate, useLocation } from "./router";
import { ErrorBox } from "./ui";
import { SignIn } from "./pages/signin";
import { Overview } from "./pages/overview";
import { Deployments } from "./pages/deployments";
import { Modules } from "./pages/modules";
import { Jobs, RunPage } from "./pages/jobs";
import { Models } from "./pages/models";
import { Endpoints } from "./pages/endpoints";
import { Apps } from "./pages/apps";
import { Pipelines } from "./pages/pipelines";
import { Audit, People, Tokens } from "./pages/admin";

const NAV: Array<[string, string, boolean?]> = [
  ["/", "Overview"],
  ["/deployments", "Deployments"],
  ["/modules", "Modules"],
  ["/jobs", "Jobs & runs"],
  ["/models", "Models"],
  ["/endpoints", "Endpoints"],
  ["/applications", "Apps"],
  ["/pipelines", "Pipelines"],
  ["/tokens", "Tokens"],
  ["/audit", "Audit log", true],
  ["/people", "Users & groups", true],
];

interface Project {
  name: string;
  targets: Array<{ name: string; default: boolean }>;
}

export function App() {
  const { path, query } = useLocation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [projects, setProjects] = useState<Project[] | undefined>();
  const [access, setAccess] = useState<Access | null>(null);
  const [error, setError] = useState<Error | undefined>();

  useEffect(() => {
    if (path === "/signin") return;
    // Who first: without a session, one failed call (it counts toward the failed-authentication limit), then the sign-in page.
    get<Me>("/whoami")
      .then((me) => {
        setMe(me);
        return get<{ projects: Project[] }>("/projects").then((d) => setProjects(d.projects));
      })
      .catch((e) => (e.status === 401 ? setMe(null) : setError(e)));
  }, [path === "/signin"]);

  const project = query.get("p") ?? projects?.[0]?.name ?? null;
  const targets = projects?.find((p) => p.name === project)?.targets ?? [];
  const target = query.get("t") ?? targets[0]?.name ?? null;

  useEffect(() => {
    setAccess(null);
    if (!project || !target || !me) return;
    get<Access>(`/projects/${encodeURIComponent(project)}/access${qs({ target })}`).then(setAccess, () => setAccess({ admin: false, levels: [], resources: {} }));
  }, [project, target, me?.user]);

  const ctx: Ctx | null = useMemo(
    () =>
      me
        ? {
            me,
            projects: projects ?? [],
            project,
            target,
            access,
            link: (p, extra = {}) => `${p}${qs({ p: project, t: target, ...extra })}`,
            tq: (extra = {}) => qs({ target, ...extra }),
          }
        : null,
    [me, projects, project, target, access],
  );

  if (path === "/signin") return <SignIn />;
  if (error) return <main class="page"><ErrorBox error={error} /></main>;
  if (me === undefined || projects === undefined || !ctx) return <main class="page"><p class="muted">Loading…</p></main>;

  const page = (() => {
    if (!project || !target) return <p class="muted">The server has no project you may view yet. Deploy one with <code>slipway deploy --server URL</code>.</p>;
    if (path === "/") return <Overview />;
    if (path === "/deployments") return <Deployments />;
    if (path === "/modules") return <Modules />;
    if (path === "/jobs") return <Jobs />;
    if (path.startsWith("/runs/")) return <RunPage id={decodeURIComponent(path.slice(6))} />;
    if (path === "/models") return <Models />;
    if (path === "/endpoints") return <Endpoints />;
    // Not /apps: that prefix is the apps' own route (/apps/NAME/).
    if (path === "/applications") return <Apps />;
    if (path === "/pipelines") return <Pipelines />;
    if (path === "/tokens") return <Tokens />;
    if (path === "/audit") return <Audit />;
    if (path === "/people") return <People />;
    return <p>No page here. <a href="/">Overview</a></p>;
  })();

  return (
    <AppContext.Provider value={ctx}>
      <header class="top">
        <a class="brand" href={ctx.link("/")}>Slipway</a>
        <select
          aria-label="project and target"
          data-testid="target-picker"
          value={`${project}/${target}`}
          onChange={(e) => {
            const [p, t] = (e.target as HTMLSelectElement).value.split("/");
            navigate(`${path}${qs({ p, t })}`);
          }}
        >
          {projects.flatMap((p) => p.targets.map((t) => <option key={`${p.name}/${t.name}`} value={`${p.name}/${t.name}`}>{p.name} / {t.name}</option>))}
        </select>
        <span class="spacer" />
        <span class="who" data-testid="who">
          {ctx.me.user}
          {ctx.me.admin ? " (administrator)" : ""}
        </span>
        <button
          data-testid="sign-out"
          onClick={async () => {
            await api("DELETE", "/session").catch(() => undefined);
            location.assign("/signin");
          }}
        >
          Sign out
        </button>
      </header>
      <div class="layout">
        <nav>
          {NAV.filter(([, , admin]) => !admin || ctx.me.admin).map(([href, label]) => (
            <a key={href} href={ctx.link(href)} class={path === href || (href === "/jobs" && path.startsWith("/runs/")) ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <main class="page">{page}</main>
      </div>
    </AppContext.Provider>
  );
}
