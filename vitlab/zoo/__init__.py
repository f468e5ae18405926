"""The study's trained models, by role: `zoo:ROLE` (seed 0) or `zoo:ROLE@SEED`.

catalog.py: the roles, where each model lives, `zoo:ROLE[@SEED]` resolved, reading cards;
build_state.py: a seed's build in the cache (its run, finished roles, commits);
cards.py: measuring a model and writing its card; build.py: `vitlab zoo build` (train, card,
publish); pack.py: carrying a build's state to another machine.
This package re-exports the catalog only, which stays import-light (no TensorFlow), so the
CLI and the TUI can list the zoo instantly.
"""

from vitlab.zoo.catalog import (
    EXTRAS,
    PREFIX,
    RECIPE,
    ROLES,
    cache_root,
    card_path,
    compress,
    describe,
    entries,
    expand,
    is_zoo_spec,
    model_path,
    parse,
    read_card,
    role_path,
    seed_dir,
    sha256,
    shipped_dir,
)

__all__ = [
    "EXTRAS",
    "PREFIX",
    "RECIPE",
    "ROLES",
    "cache_root",
    "card_path",
    "compress",
    "describe",
    "entries",
    "expand",
    "is_zoo_spec",
    "model_path",
    "parse",
    "read_card",
    "role_path",
    "seed_dir",
    "sha256",
    "shipped_dir",
]
