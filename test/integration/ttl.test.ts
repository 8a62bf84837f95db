// Time-limited targets (`ttl: { after: 24h, notify_before: 1h }`) through the real CLI and real
// `slipway server` processes, with Slipway's clock moved forward (SLIPWAY_CLOCK_OFFSET_MS) instead of
// waiting a day: each move is a server restarted with a later clock, so every deletion here also shows
// that a server down at the due time deletes when it comes back. Notifications reach a real HTTP
// receiver (HMAC-signed) and a real SMTP server on 127.0.0.1.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ChildProcess } from "node:child_process";
import { SMTPServer } from "smtp-server";
import { exited, sandbox, type Sandbox } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const HOUR = 3_600_000;
const SECRET = "ttl-hook-secret-5d2a";

interface Receivers {
  hooks: Array<{ event: string; delivery: string; body: any; signature: string; raw: string }>;
  mails: string[];
  hookPort: number;
  smtpPort: number;
  close(): Promise<void>;
}

async function receivers(): Promise<Receivers> {
  const hooks: Receivers["hooks"] = [];
  const mails: string[] = [];
  const http: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      hooks.push({ event: String(req.headers["x-slipway-event"]), delivery: String(req.headers["x-slipway-delivery"]), signature: String(req.headers["x-slipway-signature-256"]), body: JSON.parse(raw), raw });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, done) {
      let text = "";
      stream.on("data", (d) => (text += d));
      stream.on("end", () => {
        // Quoted-printable soft line breaks joined again.
        mails.push(text.replace(/=\r\n/g, ""));
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
  return {
    hooks,
    mails,
    hookPort: (http.address() as AddressInfo).port,
    smtpPort: (smtp.server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((r) => http.close(() => r()));
      await new Promise<void>((r) => smtp.close(() => r()));
    },
  };
}

function project(rx: Receivers): Record<string, string> {
  return {
    "slipway.yaml": `project: tl
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
    ttl: { after: 24h, notify_before: 1h }
    notifications:
      - webhook: { url: "http://127.0.0.1:${rx.hookPort}/hooks/ttl", secret_env: HOOK_SECRET }
      - email: { to: [dev-team@example.com], from: slipway@example.com, smtp: { host: 127.0.0.1, port: ${rx.smtpPort} } }
        events: [deletion_upcoming, deletion_done]
`,
    "application.env": `HOOK_SECRET=${SECRET}\n`,
    "modules/app/module.yaml": "module: app\nhooks:\n  - { name: stack, deploy: deploy.sh, destroy: destroy.sh }\nsettings:\n  flavour: dev\n",
    "modules/app/deploy.sh": '#!/usr/bin/env bash\necho deployed >> "$SLIPWAY_HOME/../events.log"\n',
    // Fails while fail-destroy exists (a cloud API down, say).
    "modules/app/destroy.sh": '#!/usr/bin/env bash\nset -eu\nd="$SLIPWAY_HOME/.."\nif [ -e "$d/fail-destroy" ]; then echo "the cloud said no" >&2; exit 4; fi\necho destroyed >> "$d/events.log"\n',
  };
}

/** A foreground `slipway server` whose clock is `offsetMs` ahead; resolves once its ttl unit has run since it started. */
async function serverAt(box: Sandbox, offsetMs: number): Promise<{ stop(): Promise<void>; output(): string }> {
  box.run(["server", "stop"]);
  const since = new Date(Date.now() + offsetMs).toISOString();
  const child: ChildProcess = box.start(["server", "--port", "0"], { SLIPWAY_CLOCK_OFFSET_MS: String(offsetMs), SLIPWAY_REAP_INTERVAL_MS: "150" });
  const done = exited(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const stop = async () => {
    box.run(["server", "stop"]);
    await done;
  };
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
      const s = box.json(["server", "status"]).doc;
      const ttl = s.background?.find((b: any) => b.unit === "ttl");
      return !!ttl?.last_finished_at && ttl.last_finished_at >= since;
    },
    { what: "the server's ttl unit to run", timeoutMs: 30_000 },
  );
  return { stop, output: () => output };
}

const events = (box: Sandbox): string[] => {
  const file = join(box.home, "..", "events.log");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
};

describe("ttl: a target destroyed 24 h after its last deploy", () => {
  let box: Sandbox;
  let rx: Receivers;
  before(async () => {
    rx = await receivers();
    box = sandbox(project(rx));
  });
  after(async () => {
    box.cleanup();
    await rx.close();
  });

  it("deploy starts the clock; status and ttl show count down; deletion_upcoming 1 h before; destroyed by a server started after the due time; deletion_done on both channels", async () => {
    const d = box.run(["deploy"], { SLIPWAY_USER: "ann" });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout + d.stderr, /tl\/dev is destroyed at \S+ \(ttl 24h; each deploy restarts the clock\)/);
    const shown = box.json(["ttl", "show"]).doc;
    assert.equal(shown.ttl.status, "armed");
    assert.equal(shown.ttl.deployed_by, "ann");
    assert.equal(Date.parse(shown.ttl.due_at) - Date.parse(shown.ttl.deployed_at), 24 * HOUR);
    assert.ok(shown.ttl.remaining_ms > 23 * HOUR && shown.ttl.remaining_ms <= 24 * HOUR, String(shown.ttl.remaining_ms));
    assert.deepEqual({ ...box.json(["status"]).doc.ttl, remaining_ms: 0 }, { ...shown.ttl, remaining_ms: 0 });
    assert.match(box.run(["status"]).stdout, /^ttl 24h, deletion_upcoming 1h before; deployed \S+ by ann\n  destroyed at \S+ \(in 2[34]h \d+m\)/m);

    // 23.5 h later: within notify_before.
    let server = await serverAt(box, 23.5 * HOUR);
    await waitFor(() => rx.hooks.some((h) => h.event === "deletion_upcoming") && rx.mails.length === 1, { what: "deletion_upcoming on both channels" });
    await server.stop();
    const upcoming = rx.hooks.find((h) => h.event === "deletion_upcoming")!;
    assert.equal(upcoming.signature, `sha256=${createHmac("sha256", SECRET).update(upcoming.raw).digest("hex")}`);
    assert.equal(upcoming.body.target, "dev");
    assert.equal(upcoming.body.ttl.due_at, shown.ttl.due_at);
    assert.match(upcoming.body.title, /^tl\/dev will be destroyed at \S+ \(ttl 24h\)$/);
    assert.match(rx.mails[0]!, /Subject: tl\/dev will be destroyed at/);
    assert.match(rx.mails[0]!, /slipway ttl extend dev 12h/);
    assert.deepEqual(box.json(["status"]).doc.resources, { module: 1, hook: 1, setting: 1 }, "still deployed");

    // The server was down at the due time; one started 25 h after the deploy destroys at once.
    server = await serverAt(box, 25 * HOUR);
    await waitFor(() => rx.hooks.some((h) => h.event === "deletion_done") && rx.mails.length === 2, { what: "deletion_done on both channels" });
    await server.stop();
    assert.deepEqual(box.json(["status"]).doc.resources, {});
    assert.deepEqual(events(box), ["deployed", "destroyed"]);
    const gone = box.json(["ttl", "show"]).doc.ttl;
    assert.equal(gone.status, "expired");
    assert.equal(gone.due_at, null);
    assert.deepEqual(gone.notifications.map((n: any) => [n.event, n.channel, n.status]), [
      ["deletion_upcoming", `webhook http://127.0.0.1:${rx.hookPort}`, "sent"],
      ["deletion_upcoming", "e-mail to dev-team@example.com", "sent"],
      ["deletion_done", `webhook http://127.0.0.1:${rx.hookPort}`, "sent"],
      ["deletion_done", "e-mail to dev-team@example.com", "sent"],
    ]);
    const history = box.json(["history"]).doc;
    assert.equal(history.deployments[0].operation, "expire");
    assert.equal(history.deployments[0].user, "ann");
    // Each event once per channel, and the secret never in a message.
    assert.deepEqual(rx.hooks.map((h) => h.event), ["deletion_upcoming", "deletion_done"]);
    assert.ok(!JSON.stringify(rx.hooks).includes(SECRET) && !rx.mails.join("").includes(SECRET));
  });

  it("extend moves the deletion; pin keeps the target past it; unpin lets it go; a redeploy restarts the clock and drops the extension", async () => {
    assert.equal(box.run(["deploy"], { SLIPWAY_USER: "ann" }).code, 0);
    const at = (offsetMs: number) => ({ SLIPWAY_CLOCK_OFFSET_MS: String(offsetMs), SLIPWAY_USER: "ann" });
    const first = box.json(["ttl", "show"]).doc.ttl;
    const extended = box.json(["ttl", "extend", "dev", "12h"], at(23 * HOUR));
    assert.equal(extended.code, 0, extended.stderr);
    assert.equal(Date.parse(extended.doc.ttl.due_at) - Date.parse(first.due_at), 12 * HOUR);
    assert.equal(extended.doc.ttl.extended_ms, 12 * HOUR);
    assert.match(box.run(["ttl", "show"], at(23 * HOUR)).stdout, /destroyed at \S+ \(in 1[23]h \d+m\), extended by 12h 0m/);

    // 25 h: past the original due time, before the extended one.
    let server = await serverAt(box, 25 * HOUR);
    await server.stop();
    assert.equal(box.json(["ttl", "show"]).doc.ttl.status, "armed");
    assert.equal(Object.keys(box.json(["status"]).doc.resources).length, 3);

    // A redeploy at 30 h restarts the clock from then (due 54 h) and drops the extension.
    const again = box.run(["deploy"], at(30 * HOUR));
    assert.equal(again.code, 0, again.stderr);
    const restarted = box.json(["ttl", "show"], at(30 * HOUR)).doc.ttl;
    assert.equal(restarted.extended_ms, 0);
    assert.equal(Date.parse(restarted.due_at) - Date.parse(restarted.deployed_at), 24 * HOUR);
    server = await serverAt(box, 40 * HOUR);
    await server.stop();
    assert.equal(box.json(["ttl", "show"]).doc.ttl.status, "armed", "the pending deletion (due at 36 h) was cancelled by the redeploy");

    const pinned = box.json(["ttl", "pin", "dev"], { SLIPWAY_USER: "bob" });
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.equal(pinned.doc.ttl.pinned_by, "bob");
    assert.equal(pinned.doc.ttl.remaining_ms, null);
    server = await serverAt(box, 60 * HOUR);
    assert.equal(box.json(["ttl", "show"]).doc.ttl.status, "armed", "pinned: kept past its due time");
    assert.match(box.run(["status"]).stdout, /pinned by bob at \S+: not destroyed until `slipway ttl unpin dev`/);
    const unpinned = box.json(["ttl", "unpin", "dev"], at(60 * HOUR));
    assert.equal(unpinned.code, 0, unpinned.stderr);
    await waitFor(() => box.json(["ttl", "show"]).doc.ttl.status === "expired", { what: "the unpinned, overdue target to be destroyed" });
    await server.stop();
    assert.deepEqual(box.json(["status"]).doc.resources, {});

    // Nothing to extend or pin once destroyed: refused, exit 3.
    const late = box.run(["ttl", "extend", "dev", "1h"]);
    assert.equal(late.code, 3);
    assert.match(late.stderr, /ttl extend: tl\/dev was already destroyed by its ttl/);
    const bad = box.run(["ttl", "extend", "dev", "soon"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"soon" is not a duration/);
  });
});

describe("ttl: a deletion that fails", () => {
  let box: Sandbox;
  let rx: Receivers;
  before(async () => {
    rx = await receivers();
    box = sandbox(project(rx));
  });
  after(async () => {
    box.cleanup();
    await rx.close();
  });

  it("a failing deletion is retried with backoff, reported (deletion_failed, ttl show, status) and never forgotten", async () => {
    const T = 0;
    assert.equal(box.run(["deploy"], { SLIPWAY_USER: "ann", SLIPWAY_CLOCK_OFFSET_MS: String(T) }).code, 0);
    writeFileSync(join(box.home, "..", "fail-destroy"), "");
    const hooksBefore = rx.hooks.length;
    const server = await serverAt(box, T + 25 * HOUR);
    await waitFor(() => rx.hooks.slice(hooksBefore).some((h) => h.event === "deletion_failed"), { what: "deletion_failed" }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${server.output()}\n${box.run(["ttl", "show"]).stdout}`);
    });
    await waitFor(() => box.json(["ttl", "show"]).doc.ttl.attempts >= 2, { what: "a second attempt" });
    const failing = box.json(["ttl", "show"]).doc.ttl;
    assert.equal(failing.status, "retrying");
    assert.match(failing.last_error, /hook\.app\.stack: destroy script destroy\.sh exited with code 4/);
    assert.ok(Date.parse(failing.next_attempt_at) > Date.parse(failing.due_at));
    const failed = rx.hooks.slice(hooksBefore).find((h) => h.event === "deletion_failed")!;
    assert.match(failed.body.title, /^destroying tl\/dev failed \(attempt 1\): it is retried$/);
    assert.match(failed.body.lines[0], /exited with code 4/);
    assert.match(box.run(["status"], { SLIPWAY_CLOCK_OFFSET_MS: String(T + 25 * HOUR) }).stdout, /destroyed at \S+ \(overdue by 1h \d+m\)\n  deletion failed \d+ time\(s\), next attempt at \S+: hook\.app\.stack/);
    // The e-mail channel does not take deletion_failed.
    assert.equal(rx.mails.length, 0);

    rmSync(join(box.home, "..", "fail-destroy"));
    await waitFor(() => rx.hooks.slice(hooksBefore).some((h) => h.event === "deletion_done"), { what: "the retried deletion to succeed" });
    await server.stop();
    assert.equal(box.json(["ttl", "show"]).doc.ttl.status, "expired");
    assert.deepEqual(box.json(["status"]).doc.resources, {});
    // (A receiver that answers late may see a retried delivery again: it dedupes on X-Slipway-Delivery.)
    assert.equal(rx.hooks.slice(hooksBefore).filter((h) => h.event === "deletion_failed").length, 1, "deletion_failed once per clock");
    assert.deepEqual(rx.hooks.slice(hooksBefore).map((h) => h.delivery), ["tl/dev/1/deletion_failed/0", "tl/dev/1/deletion_done/0"]);
  });
});

describe("ttl through the API (--server)", () => {
  it("deploy, ttl show, extend, pin and unpin on a real server, each change in the audit log", async () => {
    const { startTestServer } = await import("../helpers/server.js");
    const server = await startTestServer();
    const box = sandbox({
      "slipway.yaml": "project: remote-tl\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true, ttl: { after: 24h } }\n",
      "modules/m/module.yaml": "module: m\nsettings:\n  colour: blue\n",
    });
    try {
      const remote = (args: string[]) => box.json([...args, "--server", server.url], { SLIPWAY_TOKEN: server.token });
      assert.equal(remote(["deploy"]).code, 0);
      const shown = remote(["ttl", "show", "dev"]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.doc.ttl.status, "armed");
      assert.equal(shown.doc.ttl.deployed_by, "admin");
      const extended = remote(["ttl", "extend", "dev", "12h"]);
      assert.equal(extended.code, 0, extended.stderr);
      assert.equal(Date.parse(extended.doc.ttl.due_at) - Date.parse(shown.doc.ttl.due_at), 12 * HOUR);
      assert.equal(remote(["ttl", "pin", "dev"]).doc.ttl.pinned_by, "admin");
      assert.equal(remote(["ttl", "unpin", "dev"]).doc.ttl.pinned_by, null);
      assert.equal(remote(["status"]).doc.ttl.extended_ms, 12 * HOUR);
      const audit = box.json(["audit", "--server", server.url], { SLIPWAY_TOKEN: server.token });
      assert.equal(audit.code, 0, audit.stderr);
      const actions = audit.doc.entries.map((e: any) => e.action).filter((a: string) => a.startsWith("ttl "));
      assert.deepEqual(actions.sort(), ["ttl extend", "ttl pin", "ttl unpin"]);
    } finally {
      box.cleanup();
      await server.stop();
    }
  });
});
