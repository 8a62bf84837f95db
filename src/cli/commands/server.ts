import type { Command } from "commander";
import { readRuntimeEnv } from "../../env.js";
import { reapExpiredEndpoints } from "../../operations/endpoints.js";
import { runningServer } from "../../serving/control.js";
import { startServer } from "../../serving/server.js";
import { readServerInfo } from "../../serving/server-file.js";
import { processAlive } from "../../util/run-script.js";
import { execute, intOption } from "../common.js";
import { RefusedError } from "../../errors.js";
import { setExit } from "./validate.js";

export function registerServer(program: Command): void {
  const server = program
    .command("server")
    .description("run the local Slipway server in the foreground: serving gateway, model runtimes, TTL reaper (deploy starts it in the background when needed)")
    .addOption(intOption("--port <port>", "port on 127.0.0.1 (default: SLIPWAY_SERVER_PORT, else 7878; 0 picks a free one)"))
    .action((flags: { port?: number }) =>
      execute({}, async () => {
        const env = readRuntimeEnv();
        const already = await runningServer(env);
        if (already) throw new RefusedError("server_running", `a Slipway server for ${env.home} is already running at ${already.url} (pid ${already.pid})`, { hint: "stop it with `slipway server stop`" });
        const log = (line: string) => process.stdout.write(`${new Date(env.clock.now()).toISOString()} ${line}\n`);
        const server = await startServer(env, {
          port: flags.port ?? env.serverPort,
          reapEveryMs: env.reapEveryMs,
          reap: (stores) => reapExpiredEndpoints(stores, env),
          log,
        });
        log(`Slipway server listening on ${server.info.url} (home ${env.home}); restoring deployed endpoints`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once("SIGTERM", stop);
          process.once("SIGINT", stop);
        });
        log("stopping");
        await server.close();
        return 0;
      }).then(setExit),
    );
  server
    .command("stop")
    .description("stop the local server started for this SLIPWAY_HOME (by deploy or `slipway server`)")
    .action(async () => {
      const env = readRuntimeEnv();
      const info = readServerInfo(env.home);
      if (!info || !processAlive(info.pid)) {
        process.stdout.write("no Slipway server is running.\n");
        return setExit(0);
      }
      process.kill(info.pid, "SIGTERM");
      const deadline = env.clock.now() + 15_000;
      while (processAlive(info.pid) && env.clock.now() < deadline) await env.clock.sleep(50);
      if (processAlive(info.pid)) {
        process.stderr.write(`error: the server (pid ${info.pid}) did not stop within 15 s\n`);
        return setExit(1);
      }
      process.stdout.write(`stopped the Slipway server at ${info.url} (pid ${info.pid}).\n`);
      setExit(0);
    });
}
