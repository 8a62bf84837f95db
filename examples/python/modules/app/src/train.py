# Writes results, metrics and a model folder whose server answers sum(row) > threshold for each row.
import json, os, time

out = os.environ["SLIPWAY_OUTPUT_DIR"]
threshold = float(os.environ.get("SLIPWAY_PARAM_threshold", "0.5"))
print(f"training with threshold {threshold}")
time.sleep(float(os.environ.get("SLIPWAY_PARAM_seconds", "0")))  # how long "training" takes
os.makedirs(os.path.join(out, "model"), exist_ok=True)
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump({"threshold": threshold, "accuracy": 0.9}, f)
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump({"accuracy": 0.9}, f)
with open(os.path.join(out, "model", "model.yaml"), "w") as f:
    f.write("flavor: command\ncommand: python3 serve.py\nhealth: /health\n")
with open(os.path.join(out, "model", "serve.py"), "w") as f:
    f.write(f"""import json, os, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

THRESHOLD = {threshold!r}

def rows(body):
    if "dataframe_split" in body:
        return body["dataframe_split"]["data"]
    if "dataframe_records" in body:
        return [list(r.values()) for r in body["dataframe_records"]]
    return body.get("inputs") or body.get("instances")

class H(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        self._send(200 if self.path == "/health" else 404, {{"ok": True}})
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self._send(200, {{"predictions": [int(sum(r) > THRESHOLD) for r in rows(body)]}})

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
""")
print("wrote the model")
