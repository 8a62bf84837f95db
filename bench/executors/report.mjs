// Summarises bench/executors/run.sh's rounds: per variant the median round (N jobs), the time per job,
// and the comparisons the targets are about (Slurm executor vs sbatch --wait; local overhead per run).
import { readFileSync } from "node:fs";

const rows = readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const variants = [...new Set(rows.map((r) => r.variant))];
const by = Object.fromEntries(variants.map((v) => [v, rows.filter((r) => r.variant === v)]));
const med = Object.fromEntries(variants.map((v) => [v, median(by[v].map((r) => r.seconds))]));
const jobs = rows[0].jobs;
const loads = rows.flatMap((r) => [r.load_before, r.load_after]);
const names = {
  bash_true: "`bash -c true`",
  slipway_local: "`slipway run noop --wait` (local)",
  sbatch_wait: "`sbatch --wait --wrap true`",
  sbatch_poll: "`sbatch` + `scontrol` every 0.1 s",
  slipway_slurm: "`slipway run noop --wait` (slurm)",
};
console.log(`${jobs} jobs per variant, one after another; ${rows.length / variants.length} rounds; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (1 min, before/after each variant)\n`);
console.log("| variant | median round (s) | per job (ms) | min–max round (s) |");
console.log("|---|---:|---:|---:|");
for (const v of variants) {
  const xs = by[v].map((r) => r.seconds);
  console.log(`| ${names[v] ?? v} | ${med[v].toFixed(1)} | ${((med[v] / jobs) * 1000).toFixed(0)} | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} |`);
}
console.log("");
if (med.slipway_local !== undefined && med.bash_true !== undefined) {
  console.log(`- local executor: ${(((med.slipway_local - med.bash_true) / jobs) * 1000).toFixed(0)} ms per run over \`bash -c true\` (median rounds)`);
}
if (med.slipway_slurm !== undefined && med.sbatch_wait !== undefined) {
  const ratios = [...new Set(rows.map((r) => r.round))].map((round) => {
    const get = (v) => rows.find((r) => r.round === round && r.variant === v)?.seconds;
    return get("slipway_slurm") / get("sbatch_wait");
  });
  console.log(`- Slurm executor / \`sbatch --wait\`: ${(med.slipway_slurm / med.sbatch_wait).toFixed(2)}x (median rounds; per round ${ratios.map((x) => x.toFixed(2)).join(", ")}); target ≤ 1.2x`);
}
if (med.slipway_slurm !== undefined && med.sbatch_poll !== undefined) {
  console.log(`- Slurm executor / \`sbatch\` + 0.1 s polling: ${(med.slipway_slurm / med.sbatch_poll).toFixed(2)}x; ${(((med.slipway_slurm - med.sbatch_poll) / jobs) * 1000).toFixed(0)} ms per job over it`);
}
