"""Off-the-shelf features: extraction cache and probes."""
