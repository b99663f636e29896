"""Train a shrunken nearest-centroid iris model for hyperparameter tuning (standard library only;
SageMaker script mode).

The iris training script's model (``iris_training/train.py``: one centroid per class) with a
``shrinkage`` hyperparameter (0-1) that pulls each centroid towards the overall mean. Every fifth
row is held out and the accuracy on it is printed as ``validation:accuracy=<value>``, the metric
the tuning job maximizes. Writes ``model.json`` and ``code/inference.py`` as the training script does.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iris_train import FEATURES, read_rows, train  # noqa: E402


def shrink(model, shrinkage):
    centroids = model["centroids"]
    mean = [sum(c[i] for c in centroids) / len(centroids) for i in range(len(FEATURES))]
    model["centroids"] = [[round(m + (1 - shrinkage) * (v - m), 4) for v, m in zip(c, mean)] for c in centroids]
    return model


def predict(model, features):
    best = min(range(len(model["classes"])),
               key=lambda k: sum((a - b) ** 2 for a, b in zip(features, model["centroids"][k])))
    return model["classes"][best]


def main():
    hyperparameters = json.loads(os.environ.get("SM_HPS", "{}"))
    shrinkage = float(hyperparameters.get("shrinkage", 0.0))
    if not 0 <= shrinkage < 1:
        raise SystemExit(f"shrinkage must be in [0, 1), got {shrinkage}")
    rows = read_rows(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    if len(rows) < 5:
        raise SystemExit("at least five training rows are needed")
    held_out = rows[::5]
    model = shrink(train([r for i, r in enumerate(rows) if i % 5]), shrinkage)
    accuracy = sum(predict(model, f) == label for label, f in held_out) / len(held_out)
    model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
    os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
    with open(os.path.join(model_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(model, f, indent=2)
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "inference.py"),
                os.path.join(model_dir, "code", "inference.py"))
    print(f"validation:accuracy={accuracy:.4f}")


if __name__ == "__main__":
    main()
