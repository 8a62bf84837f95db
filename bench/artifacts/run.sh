#!/usr/bin/env bash
# Artifacts: publishing a 50 MB artifact to three targets (each with its own artifact store, and all
# three sharing the embedded default store), against `cp` of the same file three times; and
# `artifacts list` of an artifact with 1,000 published versions. See bench/README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
[ -f "$ROOT/dist/cli.cjs" ] || (cd "$ROOT" && npm run build --silent)
OUT="$ROOT/bench/out"; mkdir -p "$OUT"
WORK="$(mktemp -d)"; trap 'chmod -R u+rwX "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export SLIPWAY_HOME="$WORK/home" NO_COLOR=1
RUNS="${BENCH_RUNS:-10}"
SIZE_MB="${BENCH_SIZE_MB:-50}"
VERSIONS="${BENCH_VERSIONS:-1000}"

# Two projects with the same artifact: one with a store per target, one on the shared default store.
for variant in separate shared; do
  P="$WORK/$variant"; mkdir -p "$P/modules/m/data"
  {
    echo "project: bench-$variant"
    echo "include: [modules/*/module.yaml]"
    echo "targets:"
    for t in dev val prod; do
      if [ "$variant" = separate ]; then echo "  $t: { archives: { artifacts: { type: fs, path: $WORK/stores/$t } } }"; else echo "  $t: {}"; fi
    done
  } > "$P/slipway.yaml"
  cat > "$P/modules/m/module.yaml" <<'YAML'
module: m
resources:
  artifacts:
    big: { type: archive, path: data, version: "1.0.0" }
    small: { type: archive, path: data, version: "0" }
YAML
done
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$WORK/separate/modules/m/data/weights.bin"
cp "$WORK/separate/modules/m/data/weights.bin" "$WORK/shared/modules/m/data/weights.bin"
S="node $ROOT/bin/slipway.cjs"

# Build once per project (timed once: packing is not the publish).
build_ms() { local t0 t1; t0=$(date +%s%N); $S artifacts build big --project "$1" >/dev/null; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
BUILD_SEPARATE_MS=$(build_ms "$WORK/separate")
BUILD_SHARED_MS=$(build_ms "$WORK/shared")
FILE="$SLIPWAY_HOME/builds/bench-separate/big/big-1.0.0.tar.gz"
FILE_BYTES=$(stat -c %s "$FILE")
sync

# hyperfine wants one --prepare per command (in order) when any has one.
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/artifacts-publish.json" \
  --prepare "true" -n "slipway --version" "$S --version" \
  --prepare "rm -rf $WORK/cp" -n "cp FILE to 3 folders (baseline)" "bash -c 'mkdir -p $WORK/cp/a $WORK/cp/b $WORK/cp/c && cp $FILE $WORK/cp/a/ && cp $FILE $WORK/cp/b/ && cp $FILE $WORK/cp/c/'" \
  --prepare "rm -rf $WORK/stores" -n "publish to 3 targets, a store each" "$S artifacts publish big --all-targets --project $WORK/separate" \
  --prepare "rm -rf $SLIPWAY_HOME/archives/artifacts" -n "publish to 3 targets, one shared store" "$S artifacts publish big --all-targets --project $WORK/shared" \
  --prepare "true" -n "publish again (no-op: all 3 unchanged)" "$S artifacts publish big --all-targets --project $WORK/separate" >/dev/null

# 1,000 versions of `small` in dev's store, then list them with every content file unreadable:
# listing reads metadata only, so it must still work.
GEN=$(node "$HERE/generate.mjs" "$WORK/stores/dev" bench-separate dev "$VERSIONS")
chmod -R a-rwx "$WORK/stores/dev/bench-separate/small/files"
[ "$($S artifacts list small -t dev --project "$WORK/separate" --json | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>console.log(JSON.parse(d).versions.length))')" = "$VERSIONS" ]
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$OUT/artifacts-list.json" \
  -n "slipway --version" "$S --version" \
  -n "artifacts list small ($VERSIONS versions)" "$S artifacts list small -t dev --project $WORK/separate" \
  -n "artifacts list small --json ($VERSIONS versions)" "$S artifacts list small -t dev --project $WORK/separate --json" \
  -n "artifacts list (overview)" "$S artifacts list -t dev --project $WORK/separate" >/dev/null
chmod -R u+rwX "$WORK/stores/dev/bench-separate/small/files"

node - "$OUT" "$FILE_BYTES" "$BUILD_SEPARATE_MS" "$BUILD_SHARED_MS" "$GEN" <<'JS' | tee "$OUT/artifacts.md"
const fs = require("fs");
const [out, bytes, buildSep, buildShared, gen] = process.argv.slice(2);
const ms = (s) => (s * 1000).toFixed(0);
const table = (file, base) => {
  const r = JSON.parse(fs.readFileSync(`${out}/${file}`, "utf8")).results;
  const b = r.find((x) => x.command === base).median;
  console.log("| command | median ms | mean ± σ ms | min | max | above `slipway --version` |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const x of r) console.log(`| ${x.command} | ${ms(x.median)} | ${ms(x.mean)} ± ${ms(x.stddev)} | ${ms(x.min)} | ${ms(x.max)} | ${x.command === base ? "" : ms(x.median - b)} |`);
};
console.log(`File: ${(Number(bytes) / 1048576).toFixed(1)} MiB (.tar.gz of ${process.env.BENCH_SIZE_MB ?? 50} MiB of random bytes). Build (timed once): ${buildSep} ms and ${buildShared} ms.\n`);
table("artifacts-publish.json", "slipway --version");
const g = JSON.parse(gen);
console.log(`\nGenerating ${g.versions} versions through ArtifactStore.publish: ${g.total_ms} ms (${g.per_publish_ms} ms per publish of 1 KiB).\n`);
table("artifacts-list.json", "slipway --version");
JS
