import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InvalidInputError } from "../errors.js";
import { loadHomeConfig, usesHomeState, withHomeBackends } from "./home-config.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function home(text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "slipway-home-config-"));
  dirs.push(dir);
  if (text !== undefined) writeFileSync(join(dir, "config.yaml"), text);
  return dir;
}

test("a home without config.yaml uses the defaults", () => {
  assert.deepEqual(loadHomeConfig(home(), {}), {});
});

test("config.yaml names the home's backends; ${env.NAME} is read from the environment", () => {
  const dir = home("state: { type: postgres, url: '${env.PG}' }\nblobs: { type: s3, bucket: team-blobs, prefix: a/ }\nexecutor: { type: slurm, partition: debug }\n");
  const config = loadHomeConfig(dir, { PG: "postgres://u@127.0.0.1/db" });
  assert.deepEqual(config.state, { type: "postgres", url: "postgres://u@127.0.0.1/db" });
  assert.equal(config.blobs?.type, "s3");
  assert.equal(config.executor?.type, "slurm");
});

test("problems name config.yaml with line and column and say how to fix them", () => {
  const bad = [
    ["state: { type: postgres, url: '${var.x}' }\n", /only \$\{env\.NAME\} is/, 1],
    ["state: { type: postgres, url: '${env.NOPE_NOT_SET}' }\n", /NOPE_NOT_SET is not set/, 1],
    ["blobs: { type: s3 }\nexecutor:\n  type: cloud\n", /executor|bucket/, 1],
    ["\nstorage: x\n", /storage/, 2],
    // Object machinery is data: a "__proto__" key is an unknown key, not a prototype.
    ["__proto__: { type: postgres }\n", /__proto__/, 1],
    // A YAML alias bomb stops at the parser's limit, with a position.
    [`a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n`, /alias bomb/, 4],
  ] as const;
  for (const [text, message, line] of bad) {
    const dir = home(text);
    assert.throws(
      () => loadHomeConfig(dir, {}),
      (e: unknown) => {
        assert.ok(e instanceof InvalidInputError, String(e));
        assert.equal(e.code, "invalid_home_config");
        const d = e.diagnostics.find((x) => message.test(x.message));
        assert.ok(d, `${text}: ${JSON.stringify(e.diagnostics)}`);
        assert.equal(d.location?.file, join(dir, "config.yaml"));
        assert.equal(d.location?.line, line, text);
        return true;
      },
    );
  }
});

test("a target's own backends win; the home's fill in what it leaves out", () => {
  const homeConfig = { state: { type: "postgres", url: "postgres://h" }, executor: { type: "slurm" as const } };
  const merged = withHomeBackends({ blobs: { type: "fs" as const, path: "/b" } }, homeConfig);
  assert.deepEqual(merged, { blobs: { type: "fs", path: "/b" }, state: homeConfig.state, executor: homeConfig.executor });
  assert.deepEqual(withHomeBackends({ state: { type: "sqlite" } }, homeConfig).state, { type: "sqlite" });
  assert.equal(usesHomeState(merged, homeConfig), true);
  assert.equal(usesHomeState({ state: { type: "postgres", url: "postgres://other" } }, homeConfig), false);
  assert.equal(usesHomeState({}, {}), true);
  assert.equal(usesHomeState({ state: { type: "sqlite" } }, {}), true);
  assert.equal(usesHomeState({ state: { type: "sqlite", path: "/x.db" } }, {}), false);
});
