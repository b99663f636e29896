"""``python -m sagemaker_constructs.cost [CDK_OUT_DIR] [--region R] [--json] [--write]``.

Prints the committed monthly cost of every stack in a cloud assembly directory (default
``cdk.out``). ``--region`` prices environment-agnostic stacks (a stack with a concrete ``env``
is priced in its own region); ``--json`` prints JSON instead of the table; ``--write`` also
writes ``cost-estimate.json`` into the directory. Exit status 2 on bad input (no region, a
region without price data, not a cloud assembly).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ValidationError
from .estimator import estimate_monthly_cost

OUTPUT_FILE = "cost-estimate.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagemaker_constructs.cost",
                                     description="Committed monthly cost of synthesized CDK stacks.")
    parser.add_argument("directory", nargs="?", default="cdk.out", help="cloud assembly directory (default: cdk.out)")
    parser.add_argument("--region", default=None, help="region for environment-agnostic stacks")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--write", action="store_true", help=f"also write {OUTPUT_FILE} into the directory")
    args = parser.parse_args(argv)
    try:
        report = estimate_monthly_cost(Path(args.directory), region=args.region)
    except ValidationError as exc:
        print(f"cost estimate: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if args.json else report.to_text())
    if args.write:
        (Path(args.directory) / OUTPUT_FILE).write_text(report.to_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
