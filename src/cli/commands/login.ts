// `slipway login URL`: checks a token against the server (recorded in its audit log) and stores it with
// the URL in SLIPWAY_HOME/login.json (mode 0600); later commands then use that server.
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { SlipwayError } from "../../errors.js";
import { execute, type CommonFlags } from "../common.js";
import { normalizeServer, RemoteClient, remoteError, writeLogin } from "../remote.js";
import type { ErrorJson } from "../../views/error.js";

export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("log in to a Slipway server: checks the token and stores it (SLIPWAY_HOME/login.json, mode 0600); later commands talk to that server")
    .argument("<url>", "the server, e.g. http://127.0.0.1:7878 or https://slipway.example.com")
    .option("--token <token>", "the token (default: SLIPWAY_TOKEN, else asked on the terminal)")
    .option("--json", "print a stable machine-readable JSON document")
    .action((url: string, flags: Pick<CommonFlags, "json"> & { token?: string }) =>
      execute("login", flags, async ({ env, out }) => {
        const server = normalizeServer(url);
        const token = flags.token ?? env.token ?? (process.stdin.isTTY ? await ask("token: ") : undefined);
        if (!token) throw new SlipwayError("not_logged_in", "no token given", { hint: "slipway login URL --token swt_… (or SLIPWAY_TOKEN)" });
        const { doc } = await new RemoteClient(server, token).call("POST", "/login");
        if (doc.ok === false) throw remoteError(doc.error as ErrorJson);
        const who = { name: String(doc.user), admin: doc.admin === true };
        const file = writeLogin(env, { server, token });
        const { loginView } = await import("../../views/identity.js");
        return { fields: loginView(server, who, file), text: () => out.line(`logged in to ${server} as ${who.name}${who.admin ? " (administrator)" : ""}; token stored in ${file}`) };
      }),
    );
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}
