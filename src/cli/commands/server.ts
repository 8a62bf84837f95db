import type { Command } from "commander";
import { SlipwayError, RefusedError } from "../../errors.js";
import { execute, intOption, type CommonFlags } from "../common.js";
import { writeStdout } from "../output.js";

const JSON_FLAG = "print a stable machine-readable JSON document";

export function registerServer(program: Command): void {
  const server = program
    .command("server")
    .description("run the Slipway server in the foreground: the HTTP API (/api/v1), the serving gateway, model runtimes, background work (schedules, endpoint TTLs, retention, lost runs); deploy starts one in the background when needed")
    .option("--host <address>", "address to listen on (default 127.0.0.1; for others put a TLS proxy in front, see docs/server.md)")
    .addOption(intOption("--port <port>", "port (default: SLIPWAY_SERVER_PORT, else 7878; 0 picks a free one)"))
    .option("--no-bootstrap", "do not create the first administrator (deploy's background server)")
    .addOption(intOption("--idle-exit <ms>", "stop after this many ms with no endpoint to serve (default: SLIPWAY_SERVER_IDLE_MS, else never; 0: never)"))
    .option("--json", `${JSON_FLAG} once the server listens (log lines go to stderr)`)
    .action((flags: Pick<CommonFlags, "json"> & { host?: string; port?: number; idleExit?: number; bootstrap: boolean }) =>
      execute("server", { json: flags.json }, async ({ env, out }) => {
        const [{ runningServer }, { startControlPlaneServer }, { startBackground }, { serverView }] = await Promise.all([import("../../serving/control.js"), import("../../server/index.js"), import("../../server/background/index.js"), import("../../views/server.js")]);
        const already = await runningServer(env);
        if (already) throw new RefusedError("server_running", `a Slipway server for ${env.home} is already running at ${already.url} (pid ${already.pid})`, { hint: "stop it with `slipway server stop`" });
        // Log lines: stdout for a person (and server.log when deploy started it), stderr with --json.
        const log = (line: string) => out.line(`${new Date(env.clock.now()).toISOString()} ${line}`);
        let stop = () => {};
        const stopped = new Promise<void>((resolve) => (stop = resolve));
        // `run` handed over by a CLI of this build (src/cli/run-handoff): only when the launcher names its build.
        const build = (globalThis as { __slipwayBuild?: string }).__slipwayBuild;
        const handoff = build ? await (await import("../run-handoff/serve.js")).runHandoff({ home: env.home, build, log }) : undefined;
        const running = await startControlPlaneServer(env, {
          handoff,
          build,
          bootstrap: flags.bootstrap,
          host: flags.host,
          port: flags.port ?? env.serverPort,
          background: (stores) => startBackground(env, stores, { log }),
          log,
          idleExitMs: flags.idleExit ?? env.serverIdleMs ?? 0,
          onIdle: () => stop(),
        });
        log(`Slipway server listening on ${running.info.url} (home ${env.home}); restoring deployed endpoints`);
        // The first administrator's token is shown this once (stdout, or the --json document), never logged.
        const b = running.bootstrap;
        if (b?.token && !out.json) writeStdout(`created the first administrator "${b.user}"; its token (shown once, keep it): ${b.token}\n  log in with: slipway login ${running.info.url} --token <token>\n  dashboard: ${running.info.url}/signin (paste the token), or open ${running.info.url}/signin#token=${b.token}\n`);
        return {
          fields: serverView(running.info, env.home, b),
          // Serves until SIGINT, SIGTERM or an idle exit, after the document (or nothing, for a person) is printed.
          after: async () => {
            process.once("SIGTERM", () => stop());
            process.once("SIGINT", () => stop());
            await stopped;
            log("stopping: finishing requests in flight");
            await running.close();
            log("stopped");
          },
        };
      }),
    );
  server
    .command("stop")
    .description("stop the local server started for this SLIPWAY_HOME (by deploy or `slipway server`): it finishes requests in flight first")
    .option("--json", JSON_FLAG)
    .action((flags: Pick<CommonFlags, "json">) =>
      execute("server stop", { json: flags.json }, async ({ env, out }) => {
        const [{ STOP_WAIT_MS, stopServer }, { readServerInfo }, { processAlive }, { serverStopView }] = await Promise.all([import("../../serving/control.js"), import("../../serving/server-file.js"), import("../../util/run-script.js"), import("../../views/server.js")]);
        const info = readServerInfo(env.home);
        if (!info || !processAlive(info.pid)) return { fields: serverStopView(undefined), text: () => out.line("no Slipway server is running.") };
        if ((await stopServer(info, env.clock)) === "timeout") {
          throw new SlipwayError("server_stop_timeout", `the server (pid ${info.pid}) did not stop within ${STOP_WAIT_MS / 1000} s`, { hint: `see ${env.home}/logs/server.log; end it with: kill -9 ${info.pid}` });
        }
        return { fields: serverStopView(info), text: () => out.line(`stopped the Slipway server at ${info.url} (pid ${info.pid}).`) };
      }),
    );
  server
    .command("status")
    .description("what the local server of this SLIPWAY_HOME runs: pid, address, uptime, endpoints served, inference log (rows written, queued, dropped), background work (last run, outcome, next run)")
    .option("--json", JSON_FLAG)
    .action((flags: Pick<CommonFlags, "json">) =>
      execute("server status", { json: flags.json }, async ({ env, out }) => {
        const [{ serverStatus }, { serverStatusView }] = await Promise.all([import("../../serving/control.js"), import("../../views/server.js")]);
        const s = await serverStatus(env);
        return {
          fields: serverStatusView(s),
          text: () => {
            if (!s) return out.line("no Slipway server is running.");
            out.line(`Slipway server at ${s.url} (pid ${s.pid}), up ${uptime(s.uptime_s)}${s.stopping ? ", stopping" : ""}`);
            out.line(`  home ${env.home}; ${s.idle_exit_ms > 0 ? `stops after ${s.idle_exit_ms} ms with nothing to serve` : "does not stop when idle"}`);
            out.line(`endpoints served: ${s.endpoints.length}${s.restoring.length ? ` (restoring: ${s.restoring.join(", ")})` : ""}`);
            for (const e of s.endpoints) {
              out.line(`  ${e.name}  ${e.project}/${e.target}  config ${e.config_version}`);
              for (const v of e.served) out.line(`    ${v.model}@${v.version}  ${v.percent}%  ${v.ready ? "ready" : "not ready"}  ${v.ready_replicas}/${v.replicas} replica(s)${v.pids.length ? `  pid ${v.pids.join(", ")}` : ""}`);
            }
            const l = s.inference_log;
            if (l) out.line(`inference log: ${l.written} row(s) written, ${l.queued} queued (at most ${l.max_queued}), ${l.dropped} dropped${l.write_failures ? `, ${l.write_failures} failed write(s)` : ""}`);
            const background = s.background ?? [];
            out.line(`background work: ${background.length ? "" : "none yet"}`);
            for (const b of background) {
              out.line(`  ${b.unit.padEnd(28)} last ${b.last_started_at ?? "never"}${b.last_outcome ? ` (${b.last_outcome})` : ""}  next ${b.next_at ?? "-"}`);
              if (b.last_message) out.line(`    ${b.last_message}`);
            }
          },
        };
      }),
    );
}

function uptime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h ${m}m ${s}s` : m ? `${m}m ${s}s` : `${s}s`;
}
