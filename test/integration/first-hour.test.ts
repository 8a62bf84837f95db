// What a new user meets first, through the real CLI: init, doctor, completion, usage errors that say
// what was wrong, the quickstart script without python3.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { BIN, exited, REPO, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";

const isRoot = process.getuid?.() === 0;

describe("slipway init", () => {
  let box: Sandbox;
  before(() => (box = sandbox({})));
  after(() => box.cleanup());

  it("writes a project from each template, with a README and a .gitignore, that validates at once", () => {
    for (const template of ["minimal", "modules", "ml", "release"]) {
      const r = box.json(["init", `p-${template}`, "--template", template]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.doc.project, `p-${template}`);
      assert.equal(r.doc.template, template);
      for (const f of ["slipway.yaml", "README.md", ".gitignore"]) assert.ok(r.doc.files.includes(f), `${template}: ${f}`);
      const dir = join(box.dir, `p-${template}`);
      assert.match(readFileSync(join(dir, "README.md"), "utf8"), new RegExp(`^# p-${template}\\n`), "the README names the project");
      assert.doesNotMatch(readFileSync(join(dir, "slipway.yaml"), "utf8"), /\{\{/, "no placeholder is left");
      for (const f of r.doc.files.filter((f: string) => f.endsWith(".sh"))) assert.ok(statSync(join(dir, f)).mode & 0o100, `${f} is executable`);
      const v = box.run(["validate", "--project", dir]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      if (template === "release") assert.equal(box.run(["validate", "--project", dir, "-t", "prod"]).code, 0);
    }
  });

  // Deploying each template (and running, serving, destroying) is what its README shows: the docs
  // tests (test/docs/templates.test.ts) run those READMEs in a new project of each template.

  it("names the project after the folder, and takes --name", () => {
    const r = box.json(["init", "My Project.v2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.doc.project, "my-project-v2");
    assert.equal(r.doc.template, "minimal");
    const named = box.json(["init", "named", "--name", "billing_ml"]);
    assert.match(readFileSync(join(box.dir, "named", "slipway.yaml"), "utf8"), /^project: billing_ml$/m);
    assert.equal(named.doc.project, "billing_ml");
  });

  it("refuses to overwrite any file (exit 3) and then writes nothing; other files in the folder are fine", () => {
    mkdirSync(join(box.dir, "busy", "modules", "app"), { recursive: true });
    writeFileSync(join(box.dir, "busy", "notes.txt"), "mine\n");
    assert.equal(box.run(["init", "busy"]).code, 0, "unrelated files do not stop init");
    writeFileSync(join(box.dir, "busy2.md"), "");
    mkdirSync(join(box.dir, "half"));
    writeFileSync(join(box.dir, "half", "README.md"), "my own readme\n");
    const r = box.run(["init", "half", "--template", "modules"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /half already has a file the modules template would write: README\.md; nothing was written/);
    assert.match(r.stderr, /hint: init never overwrites files/);
    assert.equal(readFileSync(join(box.dir, "half", "README.md"), "utf8"), "my own readme\n");
    assert.ok(!existsSync(join(box.dir, "half", "slipway.yaml")), "nothing else was written");
    const j = box.json(["init", "half"]);
    assert.equal(j.code, 3);
    assert.equal(j.doc.error.code, "files_exist");
    assert.deepEqual(j.doc.error.files, ["README.md"]);
  });

  it("asks nothing without a terminal, even with input waiting", () => {
    const r = spawnSync(process.execPath, [BIN, "init", "quiet"], { cwd: box.dir, env: box.env, input: "ml\nother-name\n", encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /Template \[|Project name \[/);
    assert.match(readFileSync(join(box.dir, "quiet", "slipway.yaml"), "utf8"), /^project: quiet$/m);
    assert.ok(!existsSync(join(box.dir, "quiet", "modules", "training")), "the default template, not the piped answer");
  });

  it("on a terminal, asks for the template and the name the options leave open, and checks the answers", { skip: spawnSync("script", ["--version"]).error ? "`script` (util-linux), which gives the command a terminal, is not installed" : false }, () => {
    // `script` runs init on a pseudo-terminal; the answers are typed ahead, one per line.
    const r = spawnSync("script", ["-qec", `"${process.execPath}" "${BIN}" init asked`, "/dev/null"], { cwd: box.dir, env: box.env, input: "mll\nml\nBad Name\nmy-ml\n", encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Template \[minimal\]: /);
    assert.match(r.stdout, /choose one of: minimal, modules, ml, release/);
    assert.match(r.stdout, /Project name \[asked\]: /);
    assert.match(r.stdout, /lowercase letters, digits, _ and -/);
    assert.match(r.stdout, /created project my-ml in asked from the ml template/);
    assert.match(readFileSync(join(box.dir, "asked", "slipway.yaml"), "utf8"), /^project: my-ml$/m);
    // Enter takes the default template; then the input ends (Ctrl-D) at the name question.
    const eof = spawnSync("script", ["-qec", `"${process.execPath}" "${BIN}" init unanswered`, "/dev/null"], { cwd: box.dir, env: box.env, input: "\n", encoding: "utf8", timeout: 60_000 });
    assert.equal(eof.status, 3, eof.stdout);
    assert.match(eof.stdout, /cancelled: nothing was written/);
    assert.ok(!existsSync(join(box.dir, "unanswered", "slipway.yaml")));
  });

  it("rejects an unknown template and a bad name with a hint (exit 2)", () => {
    const t = box.run(["init", "x", "--template", "mll"]);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /unknown template "mll"\n {2}hint: did you mean "ml"\?/);
    const n = box.run(["init", "x", "--name", "Bad Name"]);
    assert.equal(n.code, 2);
    assert.match(n.stderr, /"Bad Name" is not a valid project name/);
    assert.ok(!existsSync(join(box.dir, "x")));
  });
});

describe("slipway doctor", () => {
  let box: Sandbox;
  let busy: Server | undefined;
  before(() => {
    box = sandbox({});
    assert.equal(box.run(["init", "ml", "--template", "ml"]).code, 0);
    assert.equal(box.run(["init", "plain"]).code, 0);
  });
  after(() => {
    busy?.close();
    box.cleanup();
  });
  const doctor = (args: string[], env: NodeJS.ProcessEnv = {}) => box.json(["doctor", ...args], env);
  const check = (doc: any, name: string) => doc.checks.filter((c: any) => c.name === name);

  it("passes on a project whose needs are met, and checks node, home, port, server, locks and the project", () => {
    const r = doctor(["--project", "plain"]);
    assert.equal(r.code, 0, JSON.stringify(r.doc, null, 2));
    assert.equal(r.doc.ok, true);
    assert.deepEqual(r.doc.checks.map((c: any) => c.name), ["node", "home", "port", "server", "locks", "project", "python"]);
    assert.match(check(r.doc, "python")[0].message, /not needed/);
    const text = box.run(["doctor", "--project", "plain"]);
    assert.match(text.stdout, /^ok {4}node {4}Node\.js \d+\.\d+\.\d+/m);
    assert.match(text.stdout, /^ready\.$/m);
  });

  it("fails without python3 for a project that runs Python, and says how to fix it (exit 1)", () => {
    const r = doctor(["--project", "ml"], { PATH: "/nonexistent" });
    assert.equal(r.code, 1);
    const [py] = check(r.doc, "python");
    assert.equal(py.status, "fail");
    assert.match(py.message, /python3 is not installed \(not found on PATH\); needed by job train/);
    assert.match(py.fix, /apt-get install python3/);
    const text = box.run(["doctor", "--project", "ml"], { PATH: "/nonexistent" });
    assert.match(text.stdout, /^FAIL {2}python {2}python3 is not installed/m);
    assert.match(text.stdout, /^ {14}fix: on Debian\/Ubuntu: sudo apt-get install python3/m);
    assert.match(text.stdout, /1 problem\(s\) to fix before deploying\./);
  });

  it("checks that the interpreter of wheels and compute environments has setuptools, wheel, pip and venv", () => {
    // An interpreter without site-packages: the standard library only.
    box.write({
      "py/bare-python": `#!/bin/sh\nexec python3 -S "$@"\n`,
      "py/slipway.yaml": "project: py\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "py/modules/lib/module.yaml": `module: lib
resources:
  artifacts:
    tool: { type: python_wheel, path: tool, python: ${join(box.dir, "py", "bare-python")} }
  compute:
    env: { python: ${join(box.dir, "py", "bare-python")} }
`,
      "py/modules/lib/tool/pyproject.toml": '[project]\nname = "tool"\nversion = "1.0.0"\n',
    });
    chmodSync(join(box.dir, "py", "bare-python"), 0o755);
    const r = spawnSync(process.execPath, [BIN, "doctor", "--json"], { cwd: join(box.dir, "py"), env: box.env, encoding: "utf8" });
    const doc = JSON.parse(r.stdout);
    const [py] = doc.checks.filter((c: any) => c.name === "python");
    assert.equal(py.status, "fail", JSON.stringify(py));
    assert.match(py.message, /bare-python \(Python 3\.\d+\.\d+\) lacks .*pip.*; needed by building wheel tool, compute environment env$/);
    assert.match(py.fix, /python3-wheel/);
  });

  it("reports a port taken by another program, with how to choose another", async () => {
    busy = createServer();
    const port = await new Promise<number>((resolve) => busy!.listen(0, "127.0.0.1", () => resolve((busy!.address() as { port: number }).port)));
    const r = doctor(["--project", "plain"], { SLIPWAY_SERVER_PORT: String(port) });
    assert.equal(r.code, 1);
    const [p] = check(r.doc, "port");
    assert.equal(p.status, "fail");
    assert.match(p.message, new RegExp(`127\\.0\\.0\\.1:${port} is taken by another program`));
    assert.match(p.fix, /export SLIPWAY_SERVER_PORT=/);
  });

  it("notes a server left running, and a stale deploy lock whose process is gone", async () => {
    assert.equal(box.run(["deploy", "--project", "plain"]).code, 0);
    const db = new Database(join(box.home, "state.db"));
    db.prepare("INSERT INTO locks (project, target, token, operation, owner_user, owner_host, owner_pid, acquired_at, heartbeat_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)").run(
      "plain", "dev", "t0k3n", "deploy", "tester", hostname(), 2 ** 22 + 12345, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", Date.now() + 3_600_000,
    );
    db.close();
    const server = box.start(["server"]);
    try {
      await waitFor(() => existsSync(join(box.home, "server.json")), 20_000, "the server");
      await waitFor(() => check(doctor(["--project", "plain"]).doc, "server")[0].status === "note", 20_000, "the server to answer");
      const r = doctor(["--project", "plain"]);
      assert.equal(r.code, 0, `notes and warnings do not fail: ${JSON.stringify(r.doc, null, 2)}`);
      assert.match(check(r.doc, "server")[0].message, /a Slipway server is running for this home at http:\/\/127\.0\.0\.1:\d+ \(pid \d+/);
      assert.match(check(r.doc, "server")[0].fix, /slipway server stop/);
      const [lock] = check(r.doc, "locks");
      assert.equal(lock.status, "warn");
      assert.match(lock.message, /stale lock on plain\/dev, held by tester@.* \(pid \d+\), "deploy" since .*: that process is gone/);
      const text = box.run(["doctor", "--project", "plain"]);
      assert.match(text.stdout, /^ready, with 1 warning\(s\)\.$/m);
    } finally {
      // Asynchronously: this process is the server's parent and must reap it while `server stop` waits.
      const stopped = await exited(box.start(["server", "stop"]));
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      await new Promise((r) => (server.exitCode !== null ? r(null) : server.on("exit", r)));
    }
    // A deploy takes the stale lock over, and doctor is clean again.
    assert.equal(box.run(["deploy", "--project", "plain"]).code, 0);
    assert.equal(check(doctor(["--project", "plain"]).doc, "locks")[0].status, "ok");
  });

  it("says when a project has problems, and when there is no project", () => {
    box.write({ "broken/slipway.yaml": "project: broken\ntargets:\n  dev:\n" });
    const r = doctor(["--project", "broken"]);
    assert.equal(r.code, 1);
    const [p] = check(r.doc, "project");
    assert.equal(p.status, "fail");
    assert.match(p.message, /has 1 problem\(s\): targets\.dev: expected object, got null/);
    assert.match(p.fix, /slipway validate/);
    const none = doctor(["--project", "nowhere"]);
    assert.equal(none.code, 0);
    assert.match(check(none.doc, "project")[0].message, /no slipway\.yaml in .*nowhere: only the machine and the home were checked/);
    assert.match(check(none.doc, "project")[0].fix, /slipway init/);
  });

  it("fails for a home folder it cannot write", { skip: isRoot && "root may write any folder, so an unwritable home cannot be made here (the non-root pass runs it)" }, () => {
    const home = join(box.dir, "locked-home");
    mkdirSync(home);
    chmodSync(home, 0o500);
    try {
      const r = doctor(["--project", "plain"], { SLIPWAY_HOME: home });
      assert.equal(r.code, 1);
      assert.equal(check(r.doc, "home")[0].status, "fail");
      assert.match(check(r.doc, "home")[0].fix, /SLIPWAY_HOME=/);
    } finally {
      chmodSync(home, 0o755);
    }
  });
});

describe("usage errors say what was wrong", () => {
  let box: Sandbox;
  before(() => {
    box = sandbox({ "slipway.yaml": "project: demo\ntargets:\n  dev: { default: true }\n  prod: {}\n" });
  });
  after(() => box.cleanup());

  it("options without a command: one line and a hint, not the whole help (exit 2)", () => {
    const r = box.run(["--var", "foo"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "error: no command given\n  hint: put a command first, e.g. `slipway validate`; `slipway --help` lists them all\n");
  });

  it("slipway alone prints the help (exit 0)", () => {
    const r = box.run([]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: slipway \[options\] \[command\]/);
    assert.match(r.stdout, /init \[options\] \[dir\]/);
    assert.match(r.stdout, /doctor/);
  });

  it("an unknown command gets a suggestion and a hint, before any unknown option", () => {
    const r = box.run(["delpoy"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: unknown command `delpoy`\n {2}hint: did you mean "deploy"\? `slipway --help` lists the commands\n$/);
    const i = box.run(["frobnicate", "--verbose"]);
    assert.match(i.stderr, /unknown command `frobnicate`\n {2}hint: `slipway --help` lists the commands/);
    const sub = box.run(["models", "verisons"]);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /unknown command `models verisons`\n {2}hint: did you mean "versions"\? `slipway models --help`/);
     // With --json, the same message and hint as the invalid_usage error document.
    const j = box.json(["delpoy"]);
    assert.equal(j.code, 2);
    assert.deepEqual(j.doc, { ok: false, error: { code: "invalid_usage", message: "unknown command `delpoy`", hint: 'did you mean "deploy"? `slipway --help` lists the commands' } });
    const group = box.json(["tokens"]);
    assert.equal(group.doc.error.message, "`slipway tokens` needs a subcommand: create, list, revoke");
    assert.equal(box.run(["tokens", "--bogus"]).stderr, "error: unknown option '--bogus'\n  hint: `slipway tokens --help` lists the options\n");
  });

  it("a missing argument is reported before a missing required option", () => {
    const r = box.run(["endpoints", "query"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing required argument 'name'/);
    assert.doesNotMatch(r.stderr, /--data/);
    const d = box.run(["endpoints", "query", "iris-dev"]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /required option '--data <json>' not specified/);
  });

  it("groups: settings, models and endpoints alone list; tokens alone names its subcommand", () => {
    const s = box.run(["settings"]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, "no settings in demo/dev.\n");
    assert.equal(box.run(["settings", "-t", "prod"]).stdout, "no settings in demo/prod.\n");
    const m = box.run(["models"]);
    assert.equal(m.code, 0, m.stderr);
    const t = box.run(["tokens"]);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /^error: `slipway tokens` needs a subcommand: create, list, revoke\n/);
  });

  it("common options may come before the command", () => {
    const r = box.run(["-t", "prod", "validate"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^demo\/prod is valid/);
    assert.equal(box.json(["--json", "-t", "prod", "validate"]).doc.target, "prod");
  });

  it("`dev:` with no value: the hint says to write `dev: {}`", () => {
    box.write({ "nulls/slipway.yaml": "project: nulls\ntargets:\n  dev:\n" });
    const r = box.run(["validate", "--project", "nulls"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /slipway\.yaml:3:\d+: error: targets\.dev: expected object, got null\n {2}hint: `dev:` with nothing after it is null; write `dev: \{\}` for an empty value/);
  });
});

describe("slipway completion", () => {
  let box: Sandbox;
  before(() => (box = sandbox({})));
  after(() => box.cleanup());

  /** Completions bash offers for the words typed so far (the last one being completed). */
  const bashComplete = (script: string, words: string[]): string[] => {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _slipway_complete; printf '%s\\n' "\${COMPREPLY[@]}"`, "_", script], { cwd: box.dir, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter(Boolean);
  };

  it("bash: commands, subcommands, options and known values, from the command tree", () => {
    const r = box.run(["completion", "bash"]);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(join(box.dir, "slipway.bash"), r.stdout);
    const script = join(box.dir, "slipway.bash");
    assert.deepEqual(bashComplete(script, ["slipway", "dep"]), ["deploy"]);
    assert.deepEqual(bashComplete(script, ["slipway", "d"]).sort(), ["deploy", "destroy", "doctor"]);
    assert.ok(bashComplete(script, ["slipway", ""]).includes("init"));
    assert.ok(!bashComplete(script, ["slipway", ""]).includes("internal-runner"), "hidden commands are not offered");
    assert.deepEqual(bashComplete(script, ["slipway", "models", "v"]), ["versions"]);
    assert.deepEqual(bashComplete(script, ["slipway", "deploy", "--ph"]), ["--phase"]);
    assert.deepEqual(bashComplete(script, ["slipway", "-t", "prod", "deploy", "--wi"]), ["--with-deps"], "option values are skipped");
    assert.deepEqual(bashComplete(script, ["slipway", "init", "--template", "m"]).sort(), ["minimal", "ml", "modules"]);
    assert.deepEqual(bashComplete(script, ["slipway", "completion", ""]).sort(), ["bash", "zsh"]);
    assert.deepEqual(bashComplete(script, ["slipway", "schema", "mo"]), ["module"]);
    mkdirSync(join(box.dir, "projdir"));
    assert.deepEqual(bashComplete(script, ["slipway", "validate", "--project", "proj"]), ["projdir"]);
  });

  it("zsh: the same tree, with descriptions", { skip: spawnSync("zsh", ["--version"]).error ? "zsh is not installed here (apt-get install zsh to run this test)" : false }, () => {
    const r = box.run(["completion", "zsh"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#compdef slipway\n/);
    writeFileSync(join(box.dir, "_slipway"), r.stdout);
    // Stand-ins for zsh's completion functions record what would be offered.
    const complete = (words: string[]) => {
      const z = spawnSync(
        "zsh",
        ["-f", "-c", `compdef() { :; }; _describe() { local -a items; items=("\${(@P)4}"); print -l -- "\${items[@]}"; }; compadd() { shift; print -l -- "$@"; }; _files() { print -- "@files $*"; }; source ./_slipway; words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; _slipway`],
        { cwd: box.dir, encoding: "utf8" },
      );
      // (The status says whether anything was offered, as for any completion function.)
      assert.equal(z.stderr, "");
      return z.stdout.split("\n").filter(Boolean);
    };
    assert.ok(complete(["slipway", ""]).some((l) => /^deploy:apply the plan to a target/.test(l)));
    assert.ok(complete(["slipway", "models", ""]).some((l) => l.startsWith("versions:")));
    assert.ok(complete(["slipway", "deploy", "--"]).some((l) => l.startsWith("--phase:")));
    assert.deepEqual(complete(["slipway", "init", "--template", ""]), ["minimal", "modules", "ml", "release"]);
    assert.deepEqual(complete(["slipway", "validate", "--project", ""]), ["@files -/"]);
  });

  it("an unknown shell is refused with a hint", () => {
    const r = box.run(["completion", "fish"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown shell "fish"\n {2}hint: shells: bash, zsh/);
  });
});

describe("scripts/quickstart.sh", () => {
  it("without python3, stops at doctor, before deploying anything, and says so", { skip: process.env.SLIPWAY_TEST_QUICKSTART === "0" && "disabled" }, () => {
    const box = sandbox({});
    try {
      // A PATH with node and the few tools the script needs, but no python3.
      const bin = join(box.dir, "bin");
      mkdirSync(bin);
      for (const tool of ["bash", "dirname", "env"]) {
        const found = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        symlinkSync(found, join(bin, tool));
      }
      symlinkSync(process.execPath, join(bin, "node"));
      const r = spawnSync(join(bin, "bash"), [join(REPO, "scripts", "quickstart.sh")], { env: { ...box.env, PATH: bin }, encoding: "utf8" });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /FAIL {2}python {2}python3 is not installed \(not found on PATH\); needed by job build_features, job train/);
      assert.match(r.stderr, /fix what doctor reports above, then run it again \(nothing was deployed\)/);
      assert.ok(!existsSync(join(box.home, "state.db")), "nothing was deployed");
    } finally {
      box.cleanup();
    }
  });
});
