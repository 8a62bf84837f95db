"""Trains a logistic regression on generated two-feature data (standard library only).

Writes, under $SLIPWAY_OUTPUT_DIR:
  model/weights.json, model/serve.py, model/model.yaml   the model version (served by `python3 serve.py`)
  metrics.json                                            {"accuracy": ...}: compared by only_if_better
  results.json                                            the run's results
"""
import json
import math
import os
import random
import shutil

epochs = int(os.environ["SLIPWAY_PARAM_epochs"])
rate = float(os.environ["SLIPWAY_PARAM_learning_rate"])
out = os.environ["SLIPWAY_OUTPUT_DIR"]

# Two clouds of points: class 1 around (2, 2), class 0 around (0, 0). Seeded: every run sees the same data.
rng = random.Random(7)
rows = [([rng.gauss(2 * c, 0.9), rng.gauss(2 * c, 0.9)], c) for c in (0, 1) for _ in range(100)]
rng.shuffle(rows)
train, test = rows[:150], rows[150:]


def predict(w, b, x):
    return 1 / (1 + math.exp(-(w[0] * x[0] + w[1] * x[1] + b)))


w, b = [0.0, 0.0], 0.0
for epoch in range(epochs):
    gw, gb = [0.0, 0.0], 0.0
    for x, y in train:
        err = predict(w, b, x) - y
        gw = [gw[0] + err * x[0], gw[1] + err * x[1]]
        gb += err
    w = [w[0] - rate * gw[0] / len(train), w[1] - rate * gw[1] / len(train)]
    b -= rate * gb / len(train)

accuracy = sum((predict(w, b, x) > 0.5) == bool(y) for x, y in test) / len(test)
print(f"accuracy {accuracy:.3f} on {len(test)} held-out rows after {epochs} epochs")

model = os.path.join(out, "model")
os.makedirs(model, exist_ok=True)
with open(os.path.join(model, "weights.json"), "w") as f:
    json.dump({"w": w, "b": b}, f)
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve.py"), model)
python = os.environ.get("SLIPWAY_VAR_python", "python3")
with open(os.path.join(model, "model.yaml"), "w") as f:
    f.write(f"flavor: command\ncommand: {python} serve.py\nhealth: /health\n")
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump({"accuracy": accuracy}, f)
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump({"accuracy": accuracy, "epochs": epochs}, f)
