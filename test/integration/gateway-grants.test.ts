// The gateway obeys the control plane's grants, not only the endpoint's configured ones. A real
// `slipway server` (its bootstrap administrator deploys through the remote CLI), the ONNX iris model,
// real requests to /serving-endpoints: a user without any grant is refused (403); after
// `slipway permissions grant CAN_QUERY demo/dev/endpoint.ep --user querier` the same token is served;
// a CAN_VIEW grant on the target does not let a viewer query; revoking the grant refuses again. The
// gateway remembers answers for a few seconds (src/server/auth/query-access.ts), so the test waits for
// the change rather than expecting it at once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { IRIS_REGISTER_PY, withIrisModel } from "../helpers/projects.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const files = {
  "slipway.yaml": `project: demo
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
`,
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    register:
      source: src
      command: python3 register.py
      registers: { model: iris, path: model }
  models:
    iris: {}
  endpoints:
    ep:
      phase: 1
      served: [{ model: iris, version: 1 }]
`,
  "modules/m/src/register.py": IRIS_REGISTER_PY,
};

describe("gateway: grants made through the API (slipway permissions grant) are honoured", () => {
  let server: TestServer;
  let box: Sandbox;
  const tokens: Record<string, string> = {};
  const admin = (args: string[]) => {
    const r = box.run([...args, "--server", server.url], { SLIPWAY_TOKEN: server.token });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const query = (who: string) =>
    fetch(`${server.url}/serving-endpoints/ep/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens[who]}` },
      body: JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] }),
    });

  before(async () => {
    server = await startTestServer();
    box = sandbox(files);
    withIrisModel(box.dir);
    for (const args of [["deploy", "--phase", "0"], ["run", "register", "--wait"], ["deploy"]]) admin(args);
    for (const who of ["querier", "viewer"]) {
      admin(["users", "create", who]);
      tokens[who] = JSON.parse(admin(["tokens", "create", "--user", who, "--json"])).token;
    }
    tokens.admin = server.token;
  });
  after(async () => {
    box?.cleanup();
    await server?.stop();
  });

  it("refuses a user with no grant, serves them once CAN_QUERY is granted on the endpoint, refuses a viewer", async () => {
    const refused = await query("querier");
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { message: string }).message, /querier may not query ep: CAN_QUERY or CAN_MANAGE is needed/);
    // The administrator (no configured grant names them, but they own the target and are an admin).
    assert.equal((await query("admin")).status, 200);

    admin(["permissions", "grant", "CAN_QUERY", "demo/dev/endpoint.ep", "--user", "querier"]);
    admin(["permissions", "grant", "CAN_VIEW", "demo/dev", "--user", "viewer"]);
    // An earlier refusal is remembered for a few seconds.
    await waitFor(async () => (await query("querier")).status === 200, { timeoutMs: 15_000, what: "the grant to reach the gateway" });
    const answer = (await (await query("querier")).json()) as { predictions: unknown };
    assert.match(JSON.stringify(answer.predictions), /^[[{]/, "the model's predictions");
    assert.equal((await query("viewer")).status, 403, "CAN_VIEW does not allow queries");
  });

  it("revoking the grant refuses the user again", async () => {
    admin(["permissions", "revoke", "CAN_QUERY", "demo/dev/endpoint.ep", "--user", "querier"]);
    await waitFor(async () => (await query("querier")).status === 403, { timeoutMs: 15_000, what: "the revocation to reach the gateway" });
  });
});
