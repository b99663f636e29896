"""``python -m sagemaker_constructs.review BASE HEAD [--json] [--fail-on CONDITIONS] [--region R]``.

Compares two cloud assembly directories (``cdk.out`` of the base and of the head) and prints the
review as Markdown, or as JSON with ``--json``. ``--output FILE`` also writes it to a file;
``--max-chars N`` cuts the Markdown (a GitHub comment holds 65,536 characters).

``--fail-on`` takes a comma-separated list of conditions (given more than once, all of them count):

- ``replacement``: a stateful resource would be replaced (or may be);
- ``removal``: a stateful resource is removed;
- ``wildcard``: an IAM wildcard (``*`` in an Allow statement's Action or Resource, a ``*``
  principal, ``NotAction``/``NotResource``) is introduced;
- ``finding``: a compliance finding is added (any pack);
- ``cost-increase=<USD>``: the fixed monthly cost grows by more than USD (``cost-increase``
  alone: by anything).

Exit status: 0 when none of the named conditions holds; 1 when one holds (the report is printed
either way, and the conditions that hold go to stderr); 2 on bad input (not a cloud assembly,
an unknown condition) or when a named condition cannot be checked (``replacement`` without
cfn-lint installed, ``cost-increase`` without price data for the region).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ValidationError
from .compare import DEFAULT_REGION, compare_assemblies
from .report import FAIL_ON_CONDITIONS, parse_fail_on


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagemaker_constructs.review",
                                     description="Review what a change does to synthesized CDK stacks.")
    parser.add_argument("base", help="cloud assembly directory of the base (e.g. cdk.out of main)")
    parser.add_argument("head", help="cloud assembly directory of the head (e.g. cdk.out of the pull request)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--fail-on", action="append", default=[], metavar="CONDITIONS",
                        help=f"exit 1 when any holds: {', '.join(FAIL_ON_CONDITIONS)} (cost-increase=<USD>); "
                             "may be given more than once")
    parser.add_argument("--region", default=None,
                        help=f"region of environment-agnostic stacks, for schemas and prices (default {DEFAULT_REGION})")
    parser.add_argument("--no-cost", action="store_true", help="skip the cost estimate")
    parser.add_argument("--max-chars", type=int, default=None, help="cut the Markdown at this many characters")
    parser.add_argument("--output", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    try:
        fail_on = parse_fail_on(",".join(args.fail_on))  # every --fail-on counts, not the last one
    except ValueError as exc:
        print(f"review: {exc}", file=sys.stderr)
        return 2
    try:
        report = compare_assemblies(args.base, args.head, region=args.region, cost=not args.no_cost)
    except ValidationError as exc:
        print(f"review: {exc}", file=sys.stderr)
        return 2
    text = report.to_json() if args.json else report.to_markdown(max_chars=args.max_chars)
    print(text, end="" if text.endswith("\n") else "\n")
    if args.output:
        args.output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    held, unknown = report.failures(fail_on)
    for line in held:
        print(f"review: fails on {line}", file=sys.stderr)
    for line in unknown:
        print(f"review: cannot check {line}", file=sys.stderr)
    if held:
        return 1
    return 2 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
