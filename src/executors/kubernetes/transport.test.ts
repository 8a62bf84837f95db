import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertReachable, expandInstructions, placesOf, transportInstructions, type TransportedInstructions } from "./transport.js";
import { jobBody } from "./job-body.js";

const base = (more: Partial<TransportedInstructions> = {}): TransportedInstructions => ({
  runId: "r1",
  project: "p",
  target: "t",
  projectDir: "/srv/proj",
  home: "/srv/shared/home",
  archives: {},
  env: { SLIPWAY_PROJECT: "p", SLIPWAY_VAR_token: "tok-$(x)-\"q\"", PLAIN: "a$b" },
  secrets: ["tok-$(x)-\"q\""],
  jobEnv: { USES: "Bearer tok-$(x)-\"q\"" },
  ...more,
});

describe("the runner's instructions carried into a pod", () => {
  it("secret values become markers of the Secret keys holding them, and come back in the pod", () => {
    const t = transportInstructions(base(), "run r1");
    assert.deepEqual(t.secretKeys, ["SLIPWAY_VAR_token"]);
    assert.ok(!t.text.includes("tok-"), t.text);
    const back = expandInstructions(t.text, { SLIPWAY_VAR_token: "tok-$(x)-\"q\"" });
    assert.deepEqual(back, base());
  });

  it("a PostgreSQL URL with a password is read from SLIPWAY_STATE_URL; one without stays as it is", () => {
    const url = "postgres://app:pw@db:5432/slipway";
    const t = transportInstructions(base({ state: { type: "postgres", url } }), "run r1");
    assert.deepEqual(t.secretKeys, ["SLIPWAY_STATE_URL", "SLIPWAY_VAR_token"]);
    assert.ok(!t.text.includes("pw@"));
    assert.equal(expandInstructions(t.text, { SLIPWAY_VAR_token: "tok-$(x)-\"q\"", SLIPWAY_STATE_URL: url }).state?.url, url);
    assert.ok(transportInstructions(base({ state: { type: "postgres", url: "postgres://db/slipway" } }), "r").text.includes("postgres://db/slipway"));
  });

  it("a secret of the project this run does not hold (another module's) is not sent, not even as a marker", () => {
    const t = transportInstructions(base({ secrets: ["tok-$(x)-\"q\"", "other-module-secret"] }), "run r1");
    assert.ok(!t.text.includes("other-module-secret"));
    assert.deepEqual(expandInstructions(t.text, { SLIPWAY_VAR_token: "tok-$(x)-\"q\"" }).secrets, ["tok-$(x)-\"q\""]);
  });

  it("a secret no variable holds on its own is refused; a missing Secret key in the pod is named", () => {
    assert.throws(() => transportInstructions(base({ env: { X: "pre-tok" }, secrets: ["tok"] }), "run r1"), /no environment variable holds on its own/);
    const t = transportInstructions(base(), "run r1");
    assert.throws(() => expandInstructions(t.text, {}), /the pod lacks the secret variable\(s\) SLIPWAY_VAR_token/);
  });

  it("the Job body holds names of secrets, never their values; $ is escaped for Kubernetes' expansion", () => {
    const t = transportInstructions(base(), "run r1");
    const body = jobBody({ namespace: "ml", image: "img:1" }, { runId: "r1", project: "p", target: "t", job: "train", resources: { cpus: 2, memory: "4G", gpus: 1, timeLimitMs: 90_500 }, instructions: t.text, secretKeys: t.secretKeys, secretName: "p-secrets", usesS3: false });
    assert.ok(!JSON.stringify(body).includes("tok-"));
    const c = body.spec!.template.spec!.containers[0]!;
    assert.deepEqual(c.resources, { requests: { cpu: "2", memory: "4G" }, limits: { cpu: "2", memory: "4G", "nvidia.com/gpu": "1" } });
    assert.equal(body.spec!.activeDeadlineSeconds, 91);
    const instructions = c.env!.find((e) => e.name === "SLIPWAY_RUN_INSTRUCTIONS")!.value!;
    assert.ok(instructions.includes("a$$b"), "a literal $ is doubled");
  });
});

describe("which stores a pod reaches", () => {
  it("local folders only under the shared volume; network stores always", () => {
    const places = placesOf(base());
    assert.throws(() => assertReachable(places, undefined, "t"), (e: Error & { code?: string }) => e.code === "kubernetes_unreachable_store" && /the state database \(SQLite\) at \/srv\/shared\/home\/state\.db/.test(e.message));
    assert.doesNotThrow(() => assertReachable(places, "/srv/shared", "t"));
    assert.throws(() => assertReachable(placesOf(base({ archives: { misc: { type: "fs", path: "../elsewhere" } } })), "/srv/shared", "t"), /archive misc at \/srv\/elsewhere is not under the executor's shared volume/);
    // "/srv/shared-other" is not under "/srv/shared".
    assert.throws(() => assertReachable(placesOf(base({ home: "/srv/shared-other" })), "/srv/shared", "t"));
    const s3 = { type: "s3" as const, bucket: "b" };
    const network = placesOf(base({ state: { type: "postgres", url: "postgres://db/x" }, blobs: s3, archives: Object.fromEntries(["job_source", "stage_logs", "persisted_data", "artifacts", "provenance", "cache", "misc"].map((k) => [k, s3])) }));
    assert.doesNotThrow(() => assertReachable(network, undefined, "t"));
  });
});
