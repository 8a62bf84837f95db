"""Scan times of a generated folder and status() times through a real server (see run.sh)."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from slipway import Slipway
from slipway._source import Source

FILES = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 15
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ms(f):
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


scratch = tempfile.mkdtemp(prefix="slipway-bench-python-")
server = None
try:
    project = os.path.join(scratch, "project")
    shutil.copytree(os.path.join(ROOT, "examples", "python"), project)
    for i in range(FILES):
        folder = os.path.join(project, "data", f"d{i // 100}")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"f{i}.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(4096))
        os.utime(path, (1e9, 1e9))

    cold = [ms(lambda: Source(project)) for _ in range(ROUNDS)]
    index = {}
    Source(project, index)
    warm = [ms(lambda: Source(project, index)) for _ in range(ROUNDS)]

    token = "swt_bench-" + os.urandom(16).hex()
    env = {**os.environ, "SLIPWAY_HOME": os.path.join(scratch, "home"), "SLIPWAY_BOOTSTRAP_TOKEN": token}
    server = subprocess.Popen([shutil.which("node") or "node", os.path.join(ROOT, "bin", "slipway.cjs"), "server", "--json", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    text = ""
    while True:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("the server exited")
        text += line
        if line.startswith("}"):
            break
    url = json.loads(text)["url"]
    by_folder = Slipway(url, token, project=project)
    first_deploy = ms(lambda: by_folder.deploy(phase=1))
    by_name = Slipway(url, token, project="scoring")
    folder_ms, name_ms = [], []
    for i in range(ROUNDS):  # interleaved, which goes first alternates
        pair = [(folder_ms, by_folder), (name_ms, by_name)]
        for out, client in pair if i % 2 == 0 else reversed(pair):
            out.append(ms(client.status))

    print(f"files: {FILES + 6} ({FILES} of 4 KiB), rounds: {ROUNDS}, python {sys.version.split()[0]}")
    print("| what | median (ms) | min (ms) |")
    print("|---|---:|---:|")
    for label, values in (("scan, no index (every file read)", cold), ("scan, in-memory index (nothing changed)", warm), ("status() with the folder (scan + 1 request)", folder_ms), ("status() with the project's name (1 request)", name_ms)):
        print(f"| {label} | {statistics.median(values):.0f} | {min(values):.0f} |")
    print(f"first deploy with the folder (upload of every file included): {first_deploy:.0f} ms")
finally:
    if server is not None:
        subprocess.run([shutil.which("node") or "node", os.path.join(ROOT, "bin", "slipway.cjs"), "server", "stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server.wait()
    shutil.rmtree(scratch, ignore_errors=True)
