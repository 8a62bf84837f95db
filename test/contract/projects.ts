// Small projects the contract tests run every command against.

const hook = (label: string) => `#!/usr/bin/env bash
set -euo pipefail
echo "${label} ran"
`;

/** core <- app (phase 1: hook, jobs, a run_on_deploy job) <- an endpoint of a model nothing registers (phase 2). */
export function contractProject(): Record<string, string> {
  return {
    "slipway.yaml": `project: contract
include: [modules/*/module.yaml]
variables:
  token:
    default: s3cr3t-value
    secret: true
targets:
  dev:
    default: true
  prod:
    protected: true
`,
    "modules/core/module.yaml": `module: core
hooks:
  - name: setup
    deploy: deploy.sh
    destroy: destroy.sh
settings:
  catalog: cat_\${target.name}
`,
    "modules/core/deploy.sh": hook("core-deploy"),
    "modules/core/destroy.sh": hook("core-destroy"),
    "modules/app/module.yaml": `module: app
depends_on: [core]
phase: 1
hooks:
  - name: route
    deploy: deploy.sh
settings:
  endpoint: ep-\${target.name}
resources:
  jobs:
    hello:
      command: 'echo "hello $SLIPWAY_PARAM_who"; echo "{\\"greeted\\": \\"$SLIPWAY_PARAM_who\\"}" > "$SLIPWAY_OUTPUT_DIR/results.json"'
      params: { who: world }
    fail:
      command: 'echo "about to fail"; exit 3'
    slow:
      command: 'sleep 30'
    on_deploy:
      command: 'echo deployed'
      run_on_deploy: true
  models:
    ghost: {}
  endpoints:
    ep-ghost:
      phase: 2
      served: [{ model: ghost, alias: champion }]
`,
    "modules/app/deploy.sh": hook("app-deploy"),
  };
}

/** A command-flavor model registered by a job, served by an endpoint (phase 1) on a target with a TTL. */
export function servingContractProject(): Record<string, string> {
  return {
    "slipway.yaml": `project: serve
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
    ttl: 1h
  qa: {}
permissions:
  - { level: CAN_MANAGE, user: "\${user}" }
`,
    "modules/m/module.yaml": `module: m
resources:
  jobs:
    train_echo:
      source: src
      command: python3 make_echo.py
      registers: { model: echo, path: model, metric: score, only_if_better: true }
  models:
    echo: {}
  endpoints:
    ep-cmd:
      phase: 1
      served: [{ model: echo, alias: champion }]
      inference_table: { sample: 1.0 }
`,
    "modules/m/src/make_echo.py": `import json, os
out = os.environ["SLIPWAY_OUTPUT_DIR"]
os.makedirs(os.path.join(out, "model"), exist_ok=True)
open(os.path.join(out, "model", "model.yaml"), "w").write("flavor: command\\ncommand: python3 serve.py\\nhealth: /health\\n")
open(os.path.join(out, "model", "serve.py"), "w").write(open("serve_template.py").read())
json.dump({"score": 1.0}, open(os.path.join(out, "metrics.json"), "w"))
`,
    "modules/m/src/serve_template.py": `import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
        self._send(200, {"predictions": [sum(r) for r in rows]})
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`,
  };
}
