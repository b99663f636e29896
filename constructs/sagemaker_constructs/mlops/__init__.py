"""MLOps: registry, pipelines, deploy on approval and monitoring."""
