# Extract and prepare: a tiny stand-in for a remote data pipeline. Writes the prepared rows to the run's
# outputs and reports how many were kept (results.json), run inside the ephemeral compute environment.
import csv, json, os, sys

raw = [
    ("5.1", "3.5", "1.4", "0.2", "setosa"),
    ("7.0", "3.2", "4.7", "1.4", "versicolor"),
    ("6.3", "3.3", "6.0", "2.5", "virginica"),
    ("", "3.0", "1.4", "0.1", "setosa"),  # incomplete: dropped
]
kept = [r for r in raw if all(r)]
out = os.environ["SLIPWAY_OUTPUT_DIR"]
with open(os.path.join(out, "prepared.csv"), "w", newline="") as f:
    csv.writer(f).writerows(kept)
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump({"rows": len(kept), "dropped": len(raw) - len(kept), "environment": os.environ.get("SLIPWAY_COMPUTE_ENVIRONMENT"), "python": sys.executable}, f)
print(f"prepared {len(kept)} row(s), dropped {len(raw) - len(kept)}")
