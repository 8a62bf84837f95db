import argparse, json, os, sys

import dqm  # installed in the job's compute environment, not in the system Python

parser = argparse.ArgumentParser()
parser.add_argument("--day", default="today")
day = parser.parse_args().day

rows = [{"id": 1, "amount": 10.5}, {"id": 2, "amount": None}, {"id": 3, "amount": 7.25}]
report = dqm.check(rows)
print(f"day {day}: {json.dumps(report)} (python {sys.prefix})")
with open(os.path.join(os.environ["SLIPWAY_OUTPUT_DIR"], "results.json"), "w") as f:
    json.dump({"day": day, **report}, f)
