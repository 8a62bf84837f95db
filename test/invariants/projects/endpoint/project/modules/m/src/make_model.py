import json, os
out = os.environ["SLIPWAY_OUTPUT_DIR"]
os.makedirs(os.path.join(out, "model"), exist_ok=True)
open(os.path.join(out, "model", "model.yaml"), "w").write("flavor: command\ncommand: python3 serve.py\nhealth: /health\n")
open(os.path.join(out, "model", "serve.py"), "w").write(open("serve_template.py").read())
json.dump({"score": float(os.environ["SLIPWAY_PARAM_score"])}, open(os.path.join(out, "metrics.json"), "w"))
