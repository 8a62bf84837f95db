// Drives examples/quickstart from a program with the Slipway SDK: validate, deploy phase 1, train,
// report the results, list the runs, destroy.
//
//   npm run build                              # once: runs are executed by the built CLI
//   npx tsx examples/sdk/train-and-report.ts   # from the repository root
//
// State goes to a fresh temporary folder unless SLIPWAY_HOME is set. A program outside this
// repository imports the same names from "slipway".
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidInputError, Slipway, SlipwayError, type Reporter } from "../../src/index.js";

const project = fileURLToPath(new URL("../quickstart", import.meta.url));
const home = process.env.SLIPWAY_HOME ? undefined : mkdtempSync(join(tmpdir(), "slipway-sdk-"));

// The SDK is silent unless given a reporter. This one prints messages, failed actions and hook output
// (already masked: the quickstart's api_token shows as ***).
const reporter: Reporter = {
  info: (message) => console.log(`  ${message}`),
  warn: (message) => console.warn(`  warning: ${message}`),
  actionFinished: (action, result) => void (result.ok || console.error(`  FAILED ${action.address}: ${result.error}`)),
  output: (address, _stream, line) => console.log(`  [${address}] ${line}`),
};

async function main(): Promise<number> {
  const slipway = new Slipway({ project, target: "dev", home, reporter });
  console.log(`state in ${home ?? process.env.SLIPWAY_HOME}`);

  // 1. Validate: throws InvalidInputError with every diagnostic when the files are wrong.
  const valid = slipway.validate();
  console.log(`\n${valid.project}/${valid.target} is valid: ${valid.modules.join(", ")}; ${valid.resources} resources`);

  // 2. Deploy phase 1 (core, features, training, serving's model and hooks; not the phase-2 endpoint).
  console.log("\ndeploy --phase 1");
  const deployed = await slipway.deploy({ phase: 1 });
  if (deployed.status === "failed") {
    console.error(`deploy failed: ${deployed.apply?.failed.map((f) => f.error.message).join("; ")} (log: ${deployed.logFile})`);
    return 1;
  }
  console.log(`${deployed.status}: revision ${deployed.revision}, ${deployed.plan.summary.create} created`);

  // 3. Train with a parameter. run() returns as soon as the run is queued; wait() polls until it ends.
  const run = await slipway.run("train", { params: { epochs: "100" } });
  console.log(`\nstarted run ${run.id} of train (epochs=100)`);
  const done = await run.wait();
  console.log(`run ${done.id}: ${done.status} in ${done.durationMs} ms`);
  for (const task of done.tasks) console.log(`  task ${task.task}: ${task.status}, exit ${task.exitCode}, ${task.attempts} attempt(s)`);
  if (done.status !== "succeeded") console.error(`  error: ${done.error}`);

  // 4. What the job wrote to $SLIPWAY_OUTPUT_DIR/results.json and metrics.json, and its last log lines.
  console.log("results:", JSON.stringify(await run.results()));
  console.log("metrics:", JSON.stringify(done.metrics));
  const lines = await run.logs();
  console.log("last log lines:");
  for (const { task, line } of lines.slice(-3)) console.log(`  [${task}] ${line}`);
  const provenance = done.provenance as { bundle_hash: string; outputs: Record<string, string> } | null;
  if (provenance) console.log(`bundle ${provenance.bundle_hash.slice(0, 12)}, outputs: ${Object.keys(provenance.outputs).join(", ")}`);

  // 5. The target's runs, newest first.
  console.log("\nruns:");
  for (const r of await slipway.runs({ limit: 5 })) console.log(`  ${r.id}  ${r.job}  ${r.status}  ${JSON.stringify(r.params)}`);

  // 6. Destroy everything again. Deletes need a yes: a program has no terminal to ask.
  console.log("\ndestroy");
  const destroyed = await slipway.destroy({ yes: true });
  console.log(`${destroyed.status}: ${destroyed.plan.summary.delete} deleted, revision ${destroyed.revision}`);
  if (home) console.log(`\nthe runs stay in ${home}: SLIPWAY_HOME=${home} npx slipway runs show ${run.id} --project examples/quickstart`);
  return done.status === "succeeded" && destroyed.status === "succeeded" ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Typed errors carry a stable code, a hint and the CLI's exit code (2 invalid input, 3 refused).
    if (error instanceof InvalidInputError) {
      for (const d of error.diagnostics) console.error(`${d.location ? `${d.location.file}:${d.location.line}:${d.location.column}: ` : ""}error: ${d.message}${d.hint ? `\n  hint: ${d.hint}` : ""}`);
    } else if (error instanceof SlipwayError) {
      console.error(`error (${error.code}): ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ""}`);
    } else {
      console.error(error);
    }
    process.exit(error instanceof SlipwayError ? error.exitCode : 1);
  },
);
