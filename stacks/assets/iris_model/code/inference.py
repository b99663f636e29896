"""SageMaker inference handlers for the iris nearest-centroid model (standard library only).

The SageMaker scikit-learn container loads this module (SAGEMAKER_PROGRAM=inference.py) and calls
model_fn once, then input_fn -> predict_fn -> output_fn per request. Requests are JSON:
``{"instances": [[5.1, 3.5, 1.4, 0.2], ...]}`` or a bare list of rows; or CSV rows.
"""

import json
import math
import os


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        return json.load(f)


def input_fn(request_body, content_type="application/json"):
    if isinstance(request_body, (bytes, bytearray)):
        request_body = request_body.decode("utf-8")
    if content_type == "text/csv":
        return [[float(v) for v in line.split(",")] for line in request_body.strip().splitlines() if line.strip()]
    if content_type == "application/json":
        data = json.loads(request_body)
        rows = data["instances"] if isinstance(data, dict) else data
        if rows and not isinstance(rows[0], list):
            rows = [rows]
        return [[float(v) for v in row] for row in rows]
    raise ValueError(f"unsupported content type {content_type}")


def predict_fn(rows, model):
    width = len(model["features"])
    out = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"expected {width} features, got {len(row)}")
        distances = [math.dist(row, centroid) for centroid in model["centroids"]]
        best = min(range(len(distances)), key=distances.__getitem__)
        out.append({"label": model["classes"][best], "distance": round(distances[best], 4)})
    return out


def output_fn(prediction, accept="application/json"):
    if accept in ("application/json", "*/*"):
        return json.dumps({"predictions": prediction}), "application/json"
    raise ValueError(f"unsupported accept type {accept}")
