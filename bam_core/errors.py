"""The one exception type a user is meant to read: the CLI prints its message alone, no traceback."""


class BamError(Exception):
    """Bad input a user can fix (config, data file, spec): the message names the file, line or key."""
