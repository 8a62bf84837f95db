"""Trains a logistic-regression classifier on a small, generated two-class data set (pure Python,
no downloads) and writes results.json, metrics.json and a model/ folder to $SLIPWAY_OUTPUT_DIR."""
import json
import math
import os
import random

lr = float(os.environ.get("SLIPWAY_PARAM_learning_rate", "0.5"))
epochs = int(os.environ.get("SLIPWAY_PARAM_epochs", "200"))
out = os.environ["SLIPWAY_OUTPUT_DIR"]

random.seed(7)
def sample(label):
    cx, cy = (1.0, 1.0) if label else (-1.0, -1.0)
    return (cx + random.gauss(0, 0.8), cy + random.gauss(0, 0.8)), label
data = [sample(i % 2) for i in range(400)]
train, test = data[:300], data[300:]

w = [0.0, 0.0]
b = 0.0
for epoch in range(epochs):
    for (x, y), label in train:
        p = 1 / (1 + math.exp(-(w[0] * x + w[1] * y + b)))
        g = p - label
        w[0] -= lr * g * x / len(train)
        w[1] -= lr * g * y / len(train)
        b -= lr * g / len(train)
    if epoch % 50 == 0:
        print(f"epoch {epoch}: w={w[0]:.3f},{w[1]:.3f} b={b:.3f}")

correct = sum(1 for (x, y), label in test if ((w[0] * x + w[1] * y + b) > 0) == bool(label))
accuracy = correct / len(test)
print(f"accuracy {accuracy:.3f}")

os.makedirs(os.path.join(out, "model"), exist_ok=True)
json.dump({"weights": w, "bias": b}, open(os.path.join(out, "model", "weights.json"), "w"))
json.dump({"accuracy": accuracy}, open(os.path.join(out, "metrics.json"), "w"))
json.dump({"accuracy": accuracy, "learning_rate": lr, "epochs": epochs}, open(os.path.join(out, "results.json"), "w"))
