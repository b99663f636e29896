"""Our SageMaker rule pack: one rule per module, the pack that lists them."""
