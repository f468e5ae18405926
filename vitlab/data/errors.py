"""The dataset error: unknown names, missing files, wrong splits (the CLI exits 2 with its line)."""

from vitlab.errors import UserError


class DatasetError(UserError):
    """A dataset name, split, folder or file the user can fix."""
