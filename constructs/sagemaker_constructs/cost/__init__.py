"""Monthly cost estimate of synthesized stacks: ``estimate_monthly_cost(stack or cdk.out)``.

Run ``python -m sagemaker_constructs.cost [CDK_OUT_DIR] [--region R] [--json] [--write]`` after
``cdk synth`` to print the table (``--write`` also writes ``cost-estimate.json`` next to the
templates). Prices, their date and sources: :mod:`sagemaker_constructs.cost.prices`.
"""

from .estimator import CostLine, CostReport, ListedItem, estimate_monthly_cost
from .prices import HOURS_PER_MONTH, PRICE_DATE, PRICES

__all__ = ["CostLine", "CostReport", "HOURS_PER_MONTH", "ListedItem", "PRICES", "PRICE_DATE",
           "estimate_monthly_cost"]
