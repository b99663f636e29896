"""Train the iris nearest-centroid model (standard library only; SageMaker script mode).

Reads CSV rows ``label,sepal_length,sepal_width,petal_length,petal_width`` from the ``train``
channel and writes ``model.json`` plus ``code/inference.py`` (the serving handlers) to the model
directory, which SageMaker packs into ``model.tar.gz``.
"""

import csv
import glob
import json
import os
import shutil

FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


def read_rows(directory):
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True)):
        with open(path, newline="", encoding="utf-8") as f:
            for record in csv.reader(f):
                if record and not record[0].startswith("#"):
                    rows.append((record[0], [float(v) for v in record[1:1 + len(FEATURES)]]))
    return rows


def train(rows):
    sums, counts = {}, {}
    for label, features in rows:
        acc = sums.setdefault(label, [0.0] * len(FEATURES))
        for i, value in enumerate(features):
            acc[i] += value
        counts[label] = counts.get(label, 0) + 1
    classes = sorted(sums)
    centroids = [[round(v / counts[c], 4) for v in sums[c]] for c in classes]
    return {"name": "iris-nearest-centroid", "version": 1, "features": FEATURES, "classes": classes,
            "centroids": centroids}


def main():
    train_dir = os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
    model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
    rows = read_rows(train_dir)
    if not rows:
        raise SystemExit(f"no training rows under {train_dir}")
    model = train(rows)
    os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
    with open(os.path.join(model_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(model, f, indent=2)
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "inference.py"),
                os.path.join(model_dir, "code", "inference.py"))
    print(json.dumps({"trained_on": len(rows), "classes": model["classes"]}))


if __name__ == "__main__":
    main()
