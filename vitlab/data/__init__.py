"""vitlab package."""
