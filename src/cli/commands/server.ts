import type { Command } from "commander";
import { readRuntimeEnv } from "../../env.js";
import { reapExpiredEndpoints } from "../../operations/endpoints.js";
import { runningServer } from "../../serving/control.js";
import { startServer } from "../../serving/server.js";
import { intOption } from "../common.js";
import { setExit } from "./validate.js";

export function registerServer(program: Command): void {
  program
    .command("server")
    .description("run the local Slipway server in the foreground: serving gateway, model runtimes, TTL reaper (deploy starts it in the background when needed)")
    .addOption(intOption("--port <port>", "port on 127.0.0.1 (default: SLIPWAY_SERVER_PORT, else 7878; 0 picks a free one)"))
    .action(async (flags: { port?: number }) => {
      const env = readRuntimeEnv();
      const already = await runningServer(env);
      if (already) {
        process.stderr.write(`error: a Slipway server for ${env.home} is already running at ${already.url} (pid ${already.pid})\n`);
        return setExit(3);
      }
      const log = (line: string) => process.stdout.write(`${new Date(env.clock.now()).toISOString()} ${line}\n`);
      const server = await startServer(env, {
        port: flags.port ?? env.serverPort,
        reapEveryMs: env.reapEveryMs,
        reap: (stores) => reapExpiredEndpoints(stores, env),
        log,
      });
      log(`Slipway server listening on ${server.info.url} (home ${env.home}); ${server.endpoints.list().length} endpoint(s)`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      log("stopping");
      await server.close();
      setExit(0);
    });
}
