"""Security: the platform key, secure buckets, the audit trail and execution roles by persona."""
