"""The project's own errors: mistakes a user can fix, each with a message that says how.

Commands print these as one line and exit non-zero; anything else is a bug and keeps its
traceback (as do these with ``HYDRA_FULL_ERROR=1``).
"""


class UserError(ValueError):
    """Bad input, settings or files: the message names the culprit and what to do."""


class ConfigError(UserError):
    """Settings that cannot work together (e.g. init_from with ckpt_path)."""
