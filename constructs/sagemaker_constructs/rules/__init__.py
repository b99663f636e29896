"""Our SageMaker rule pack: one rule per module (``rules/<rule>.py``), the pack that lists them
(``rules/pack.py``: ``RULES``, ``SageMakerChecks``, ``evaluate``)."""
