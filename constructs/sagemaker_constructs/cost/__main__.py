"""``python -m sagemaker_constructs.cost [CDK_OUT_DIR] [--region R] [--json] [--write]
[--hosting-price TYPE=USD ...] [--mlflow-price SIZE=USD ...]``.

Prints the committed monthly cost of every stack in a cloud assembly directory (default
``cdk.out``). ``--region`` prices environment-agnostic stacks (a stack with a concrete ``env``
is priced in its own region); ``--json`` prints JSON instead of the table; ``--write`` also
writes ``cost-estimate.json`` into the directory; ``--hosting-price``/``--mlflow-price`` supply your
own hourly prices (where the table has none, or in place of its figure). Exit status 2 on bad input (no region, a
region without price data, not a cloud assembly).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ValidationError
from .estimator import estimate_monthly_cost

OUTPUT_FILE = "cost-estimate.json"


def _pairs(parser: argparse.ArgumentParser, option: str, values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, usd = value.partition("=")
        if not sep or not name or not usd:
            parser.error(f"{option} takes NAME=USD, got {value!r}")
        if name.strip() in out:
            parser.error(f"{option} given twice for {name.strip()!r}")
        out[name.strip()] = usd.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagemaker_constructs.cost",
                                     description="Committed monthly cost of synthesized CDK stacks.")
    parser.add_argument("directory", nargs="?", default="cdk.out", help="cloud assembly directory (default: cdk.out)")
    parser.add_argument("--region", default=None, help="region for environment-agnostic stacks")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--write", action="store_true", help=f"also write {OUTPUT_FILE} into the directory")
    parser.add_argument("--hosting-price", action="append", default=[], metavar="TYPE=USD",
                        help="your USD per instance-hour for a hosting instance type (repeatable), e.g. "
                             "ml.c7g.large=0.0867: used in place of the table's or where it has none")
    parser.add_argument("--mlflow-price", action="append", default=[], metavar="SIZE=USD",
                        help="your USD per hour for an MLflow tracking server size (repeatable), e.g. Small=0.6")
    args = parser.parse_args(argv)
    try:
        report = estimate_monthly_cost(Path(args.directory), region=args.region,
                                       hosting_prices=_pairs(parser, "--hosting-price", args.hosting_price),
                                       mlflow_prices=_pairs(parser, "--mlflow-price", args.mlflow_price))
    except ValidationError as exc:
        print(f"cost estimate: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if args.json else report.to_text())
    if args.write:
        (Path(args.directory) / OUTPUT_FILE).write_text(report.to_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
