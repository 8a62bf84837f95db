"""The model server of one version: answers POST /invocations with {"inputs": [[x1, x2], ...]}.

The Slipway server starts it in the version's folder with PORT set and sends it traffic once
GET /health answers 200.
"""
import json
import math
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights.json")) as f:
    weights = json.load(f)


def predict(x):
    z = weights["w"][0] * x[0] + weights["w"][1] * x[1] + weights["b"]
    return round(1 / (1 + math.exp(-z)), 4)


class Handler(BaseHTTPRequestHandler):
    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.send(200 if self.path == "/health" else 404, {"ok": self.path == "/health"})

    def do_POST(self):
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            rows = body["inputs"]
            self.send(200, {"predictions": [predict(x) for x in rows]})
        except (KeyError, TypeError, ValueError, IndexError) as e:
            self.send(400, {"error_code": "BAD_REQUEST", "message": f"expected {{\"inputs\": [[x1, x2], ...]}}: {e}"})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
