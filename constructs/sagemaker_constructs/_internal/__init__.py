"""What several subpackages share (not public API)."""
