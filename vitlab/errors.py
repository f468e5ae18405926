"""The one error type the CLI turns into a one-line message and exit code 2.

Anything a user can fix (a name, a file, a value) raises a subclass of UserError with a
message that says what was wrong and where; everything else is a bug and keeps its
traceback.
"""


class UserError(ValueError):
    """Bad input: the message names the file, key or value and what was expected."""
