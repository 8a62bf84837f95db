// The dashboard's first-page weight and the overview's render time in headless Chromium against a
// server holding 1,000 runs and 100 model versions (issue 13). The server is the browser tests'
// fixture (test/dashboard/fixture.ts: real deploys and runs); the extra runs and versions are copies
// of real rows written into its state database, as many runs would leave them.
// Prints a Markdown table and writes bench/out/dashboard.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { iso } from "../../src/clock.js";
import { openStores } from "../../src/store/open.js";
import { REPO } from "../../test/helpers/cli.js";
import { startDashboardFixture } from "../../test/dashboard/fixture.js";

const RUNS = 1000;
const VERSIONS = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

/** The gzipped bytes of what the first page loads: index.html and the assets it names (not the lazy chart). */
function firstPageWeight(): { files: Record<string, number>; total: number } {
  const dir = join(REPO, "dist", "web");
  const html = readFileSync(join(dir, "index.html"));
  const files: Record<string, number> = { "index.html": gzipSync(html).length };
  for (const m of html.toString().matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)) files[m[1]!] = gzipSync(readFileSync(join(dir, m[1]!))).length;
  return { files, total: Object.values(files).reduce((a, b) => a + b, 0) };
}

const f = await startDashboardFixture();
try {
  const stores = await openStores(f.server.home);
  try {
    const runs = stores.state.runs();
    const [template] = await runs.list({ project: "quickstart", target: "dev", limit: 1 });
    const base = Date.now() - RUNS * 60_000;
    const have = (await runs.list({ project: "quickstart", target: "dev", limit: 10_000 })).length;
    for (let i = have; i < RUNS; i++) {
      const at = base + i * 60_000;
      await runs.create({ ...template!, id: `rbench${i.toString(36).padStart(8, "0")}`, status: i % 17 === 0 ? "failed" : "succeeded", created_at: iso(at), started_at: iso(at + 100), finished_at: iso(at + 5_000) });
    }
    const models = stores.state.models("quickstart", "dev");
    const [first] = await models.versions("iris");
    const { project: _p, target: _t, version: _v, ...row } = first!;
    for (let n = (await models.versions("iris")).length; n < VERSIONS; n++) await models.addVersion({ ...row, metrics: JSON.stringify({ accuracy: 0.8 + (n % 20) / 100, loss: 1 / (n + 1) }) });
  } finally {
    await stores.close();
  }
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(`${f.server.url}/signin#token=${f.server.token}`);
  await page.waitForURL((u) => u.pathname === "/");
  const measure = async (path: string, ready: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS + 1; i++) {
      const t0 = performance.now();
      await page.goto(`${f.server.url}${path}`);
      await ready();
      if (i > 0) times.push(performance.now() - t0); // the first round warms the server's caches
    }
    times.sort((a, b) => a - b);
    return { median_ms: times[Math.floor(times.length / 2)]!, max_ms: times.at(-1)!, rounds: times.length };
  };
  // Rendered: the runs table, every target card past "Loading…", and the countdown ticking.
  const overview = await measure("/", async () => {
    await page.getByTestId("recent-runs").waitFor();
    await page.getByTestId("countdown").first().waitFor();
    await page.waitForFunction(() => !document.body.innerText.includes("Loading…"));
  });
  const modelsPage = await measure("/models", () => page.locator("[data-testid=metric-chart] canvas").waitFor());
  const runsShown = (await page.goto(`${f.server.url}/jobs`), await page.getByTestId("runs").locator("tbody tr").count());
  await browser.close();
  const weight = firstPageWeight();
  const result = { runs: RUNS, versions: VERSIONS, first_page_gzip_bytes: weight.total, first_page_files: weight.files, overview, models_page: modelsPage, jobs_page_rows: runsShown, node: process.version };
  mkdirSync(join(REPO, "bench", "out"), { recursive: true });
  writeFileSync(join(REPO, "bench", "out", "dashboard.json"), JSON.stringify(result, null, 2));
  console.log(`| measure | value |\n|---|---|`);
  console.log(`| first page, gzipped (index.html + JS + CSS) | ${(weight.total / 1024).toFixed(1)} KB |`);
  console.log(`| overview rendered, ${RUNS} runs, ${VERSIONS} versions (median of ${overview.rounds}) | ${overview.median_ms.toFixed(0)} ms (max ${overview.max_ms.toFixed(0)} ms) |`);
  console.log(`| models page with its chart, ${VERSIONS} versions (median of ${modelsPage.rounds}) | ${modelsPage.median_ms.toFixed(0)} ms (max ${modelsPage.max_ms.toFixed(0)} ms) |`);
} finally {
  await f.stop();
}
