"""Evaluate a trained iris model on the test channel; write evaluation.json (standard library only).

Inputs: ``/opt/ml/processing/model/model.tar.gz`` and CSV rows under ``/opt/ml/processing/test``.
Output: ``/opt/ml/processing/evaluation/evaluation.json`` = ``{"metrics": {"accuracy": {"value": ...}}}``,
read by the pipeline's condition step.
"""

import csv
import glob
import json
import math
import os
import sys
import tarfile

BASE = os.environ.get("PROCESSING_BASE", "/opt/ml/processing")


def load_model(model_dir):
    with tarfile.open(os.path.join(model_dir, "model.tar.gz"), "r:gz") as tar:
        return json.load(tar.extractfile("model.json"))


def predict(model, row):
    distances = [math.dist(row, c) for c in model["centroids"]]
    return model["classes"][min(range(len(distances)), key=distances.__getitem__)]


def main():
    model = load_model(os.path.join(BASE, "model"))
    total = correct = 0
    for path in sorted(glob.glob(os.path.join(BASE, "test", "**", "*.csv"), recursive=True)):
        with open(path, newline="", encoding="utf-8") as f:
            for record in csv.reader(f):
                if not record or record[0].startswith("#"):
                    continue
                total += 1
                correct += predict(model, [float(v) for v in record[1:5]]) == record[0]
    if total == 0:
        sys.exit("no test rows")
    report = {"metrics": {"accuracy": {"value": correct / total, "standard_deviation": "NaN"}},
              "samples": total}
    out = os.path.join(BASE, "evaluation")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "evaluation.json"), "w", encoding="utf-8") as f:
        json.dump(report, f)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
