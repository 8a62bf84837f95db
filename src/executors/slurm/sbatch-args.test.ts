import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryMegabytes, sbatchOptions, timeLimitMinutes } from "./sbatch-args.js";

const layout = { jobName: "slipway-train", output: "/home/u/.slipway/runs/r1/runner.log", chdir: "/home/u/.slipway/runs" };

describe("sbatch options of a run", () => {
  it("the target's settings and the job's compute, one argument each", () => {
    assert.deepEqual(
      sbatchOptions({ partition: "gpu", account: "ml", qos: "long", sbatch_args: ["--constraint=a100"] }, { cpus: 3.5, memory: "4G", gpus: 2, timeLimitMs: 90_000 }, layout),
      [
        "--constraint=a100",
        "--job-name=slipway-train",
        "--output=/home/u/.slipway/runs/r1/runner.log",
        "--open-mode=append",
        "--chdir=/home/u/.slipway/runs",
        "--partition=gpu",
        "--account=ml",
        "--qos=long",
        "--ntasks=1",
        "--cpus-per-task=4",
        "--mem=4096M",
        "--gres=gpu:2",
        "--time=2",
      ],
    );
  });

  it("nothing asked, nothing added: the cluster's defaults apply", () => {
    assert.deepEqual(sbatchOptions({}, {}, layout), ["--job-name=slipway-train", "--output=/home/u/.slipway/runs/r1/runner.log", "--open-mode=append", "--chdir=/home/u/.slipway/runs"]);
    assert.ok(!sbatchOptions({}, { gpus: 0 }, layout).some((a) => a.startsWith("--gres")), "0 GPUs asks for none");
  });

  it("a sweep is a job array, indexes 0..n-1", () => {
    assert.equal(sbatchOptions({}, {}, { ...layout, arraySize: 12 }).at(-1), "--array=0-11");
    assert.ok(!sbatchOptions({}, {}, { ...layout, arraySize: 1 }).some((a) => a.startsWith("--array")));
  });

  it("memory in Slurm's megabytes (powers of 1024), rounded up", () => {
    assert.equal(memoryMegabytes("512M"), 512);
    assert.equal(memoryMegabytes("4G"), 4096);
    assert.equal(memoryMegabytes("1.5Gi"), 1536);
    assert.equal(memoryMegabytes("2048MB"), 2048);
    assert.equal(memoryMegabytes("1T"), 1024 * 1024);
    assert.equal(memoryMegabytes("100K"), 1);
    assert.throws(() => memoryMegabytes("lots"), /not a memory size/);
  });

  it("time limits in whole minutes, rounded up, at least one", () => {
    assert.equal(timeLimitMinutes(1), 1);
    assert.equal(timeLimitMinutes(60_000), 1);
    assert.equal(timeLimitMinutes(60_001), 2);
    assert.equal(timeLimitMinutes(3 * 3_600_000), 180);
  });
});
