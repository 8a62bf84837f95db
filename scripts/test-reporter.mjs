// The test command's reporter (node --test-reporter=./scripts/test-reporter.mjs): one line per test
// file as it finishes, every failure in full as it is reported (file:line:column of the test, the
// error with its diff and stack), and a summary last: counts, wall time, the slowest files, skipped
// and todo tests with their reasons, the output of failed files, and the failures again with
// file:line:column.
//
// node:test reports a file's tests in order but announces the file's completion as it happens, so the
// per-file line carries the file's outcome and time; the counts come from node:test's own totals.
import { relative } from "node:path";
import { inspect } from "node:util";

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const red = (t) => paint(31, t);
const green = (t) => paint(32, t);
const yellow = (t) => paint(33, t);
const dim = (t) => paint(2, t);

const rel = (file) => (file ? relative(process.cwd(), file) : "(unknown file)");
const secs = (ms) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s` : `${(ms / 1000).toFixed(1)}s`);

/** The assertion or error behind node:test's wrapper (ERR_TEST_FAILURE keeps the real one in `cause`). */
function describeError(error) {
  if (!error) return "(no error details)";
  const inner = error.code === "ERR_TEST_FAILURE" && error.cause ? error.cause : error;
  return typeof inner === "string" ? inner : inspect(inner, { depth: 6, colors: color, breakLength: 120 });
}

const indent = (text, by = "    ") =>
  text
    .split("\n")
    .map((l) => by + l)
    .join("\n");

export default async function* reporter(source) {
  const started = Date.now();
  /** Test files by path: time, outcome. */
  const files = new Map();
  /** Output (stdout, stderr) by the file that printed it. */
  const output = new Map();
  /** Names of running suites by (definition file, nesting), for "suite > test" titles. */
  const stacks = new Map();
  const failures = [];
  const skipped = [];
  /** Tests marked todo: they may fail without failing the run (node:test counts them apart). */
  const todo = [];
  const totals = {};

  for await (const event of source) {
    const data = event.data ?? {};
    const isFile = data.file && data.name === data.file;
    switch (event.type) {
      case "test:start": {
        if (isFile || !data.file) break;
        if (!stacks.has(data.file)) stacks.set(data.file, []);
        stacks.get(data.file)[data.nesting] = data.name;
        break;
      }
      case "test:stdout":
      case "test:stderr": {
        const key = data.file ?? "";
        if (!output.has(key)) output.set(key, []);
        output.get(key).push(data.message);
        break;
      }
      case "test:pass":
      case "test:fail": {
        const isSuite = data.details?.type === "suite";
        const where = `${rel(data.file)}:${data.line ?? 1}:${data.column ?? 1}`;
        const title = isFile ? "(the test file itself)" : [...(stacks.get(data.file) ?? []).slice(0, data.nesting), data.name].join(" > ");
        if (!isSuite && !isFile && data.skip !== undefined && data.skip !== "test name does not match pattern") skipped.push({ where, title, reason: typeof data.skip === "string" ? data.skip : "" });
        if (!isSuite && !isFile && data.todo !== undefined) {
          todo.push({ where, title, reason: typeof data.todo === "string" ? data.todo : "", failed: event.type === "test:fail" });
          break;
        }
        if (event.type === "test:fail") {
          const error = data.details?.error;
          // A suite fails when a subtest failed; that subtest is reported on its own.
          if (isSuite && /subtests? failed/.test(String(error?.cause ?? error?.message ?? ""))) break;
          failures.push({ where, title, error, file: data.file });
          yield `\n${red("✖ FAIL")} ${where}  ${title}\n${indent(describeError(error))}\n\n`;
        }
        break;
      }
      case "test:complete": {
        if (!isFile) break;
        const ms = data.details?.duration_ms ?? 0;
        const passed = !!data.details?.passed;
        files.set(data.file, { ms, passed });
        yield `${passed ? green("ok  ") : red("FAIL")} ${secs(ms).padStart(6)}  ${rel(data.file)}\n`;
        break;
      }
      case "test:diagnostic": {
        // node:test's own totals arrive last, as diagnostics without a file ("tests 12", "pass 11", …).
        const m = !data.file && /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(data.message ?? "");
        if (m) totals[m[1]] = Number(m[2]);
        else if (data.message) {
          const key = data.file ?? "";
          if (!output.has(key)) output.set(key, []);
          output.get(key).push(`# ${data.message}\n`);
        }
        break;
      }
      default:
        break;
    }
  }

  const wall = Date.now() - started;
  const lines = ["", dim("─".repeat(72))];
  const failedFiles = [...files.entries()].filter(([, f]) => !f.passed).map(([name]) => name);
  for (const name of failedFiles) {
    const printed = output.get(name);
    if (printed?.length) lines.push(dim(`--- output of ${rel(name)} (it failed) ---`), printed.join("").trimEnd(), dim("--- end of output ---"));
  }
  if (skipped.length) {
    lines.push(`skipped (${skipped.length}):`);
    for (const s of skipped) lines.push(`  ${s.where}  ${s.title}${s.reason ? ` — ${s.reason}` : ""}`);
  }
  if (todo.length) {
    lines.push(`todo (${todo.length}; they do not fail the run):`);
    for (const t of todo) lines.push(`  ${t.where}  ${t.title} (${t.failed ? "fails" : "passes"})${t.reason ? ` — ${t.reason}` : ""}`);
  }
  const slowest = [...files.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 5);
  if (slowest.length) {
    lines.push("slowest files:");
    for (const [name, f] of slowest) lines.push(`  ${secs(f.ms).padStart(6)}  ${rel(name)}`);
  }
  if (failures.length || failedFiles.length) {
    lines.push(red(`failures (${failures.length}):`));
    for (const f of failures) {
      const first = String(describeError(f.error)).split("\n").find((l) => l.trim()) ?? "";
      lines.push(`  ${f.where}  ${f.title}`, `      ${first.trim().slice(0, 240)}`);
    }
    if (failedFiles.length) lines.push(`  failed files: ${failedFiles.map(rel).join(", ")}`);
  }
  const t = (k) => totals[k] ?? 0;
  const counts = `tests ${t("tests")}, passed ${t("pass")}, failed ${t("fail")}, skipped ${t("skipped")}, todo ${t("todo")}, cancelled ${t("cancelled")}`;
  const bad = failures.length || failedFiles.length || t("fail") || t("cancelled");
  lines.push(`${bad ? red("FAILED") : green("PASSED")}: ${counts}; ${files.size} file(s) in ${secs(wall)}`);
  yield lines.join("\n") + "\n";
}
