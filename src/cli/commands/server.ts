import type { Command } from "commander";
import { SlipwayError, RefusedError } from "../../errors.js";
import { reapExpiredEndpoints } from "../../operations/endpoints.js";
import { runningServer } from "../../serving/control.js";
import { startServer } from "../../serving/server.js";
import { readServerInfo } from "../../serving/server-file.js";
import { processAlive } from "../../util/run-script.js";
import { serverStopView, serverView } from "../../views/server.js";
import { execute, intOption, type CommonFlags } from "../common.js";

const JSON_FLAG = "print a stable machine-readable JSON document";

export function registerServer(program: Command): void {
  const server = program
    .command("server")
    .description("run the local Slipway server in the foreground: serving gateway, model runtimes, TTL reaper (deploy starts it in the background when needed)")
    .addOption(intOption("--port <port>", "port on 127.0.0.1 (default: SLIPWAY_SERVER_PORT, else 7878; 0 picks a free one)"))
    .option("--json", `${JSON_FLAG} once the server listens (log lines go to stderr)`)
    .action((flags: Pick<CommonFlags, "json"> & { port?: number }) =>
      execute("server", { json: flags.json }, async ({ env, out }) => {
        const already = await runningServer(env);
        if (already) throw new RefusedError("server_running", `a Slipway server for ${env.home} is already running at ${already.url} (pid ${already.pid})`, { hint: "stop it with `slipway server stop`" });
        // Log lines: stdout for a person (and server.log when deploy started it), stderr with --json.
        const log = (line: string) => out.line(`${new Date(env.clock.now()).toISOString()} ${line}`);
        const running = await startServer(env, {
          port: flags.port ?? env.serverPort,
          reapEveryMs: env.reapEveryMs,
          reap: (stores) => reapExpiredEndpoints(stores, env),
          log,
        });
        log(`Slipway server listening on ${running.info.url} (home ${env.home}); restoring deployed endpoints`);
        return {
          fields: serverView(running.info, env.home),
          // Serves until SIGINT or SIGTERM, after the document (or nothing, for a person) is printed.
          after: async () => {
            await new Promise<void>((resolve) => {
              process.once("SIGTERM", resolve);
              process.once("SIGINT", resolve);
            });
            log("stopping");
            await running.close();
          },
        };
      }),
    );
  server
    .command("stop")
    .description("stop the local server started for this SLIPWAY_HOME (by deploy or `slipway server`)")
    .option("--json", JSON_FLAG)
    .action((flags: Pick<CommonFlags, "json">) =>
      execute("server stop", { json: flags.json }, async ({ env, out }) => {
        const info = readServerInfo(env.home);
        if (!info || !processAlive(info.pid)) return { fields: serverStopView(undefined), text: () => out.line("no Slipway server is running.") };
        try {
          process.kill(info.pid, "SIGTERM");
        } catch {
          /* it exited meanwhile */
        }
        const deadline = env.clock.now() + 15_000;
        while (processAlive(info.pid) && env.clock.now() < deadline) await env.clock.sleep(50);
        if (processAlive(info.pid)) throw new SlipwayError("server_stop_timeout", `the server (pid ${info.pid}) did not stop within 15 s`, { hint: `see ${env.home}/logs/server.log; end it with: kill -9 ${info.pid}` });
        return { fields: serverStopView(info), text: () => out.line(`stopped the Slipway server at ${info.url} (pid ${info.pid}).`) };
      }),
    );
}
