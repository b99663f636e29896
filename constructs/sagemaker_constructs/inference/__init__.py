"""Inference: models and images, endpoints and the invoker."""
