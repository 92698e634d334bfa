"""The two ways a run can fail before any output is written."""


class KfnError(Exception):
    """A problem that stops the run: one line on stderr, nothing on stdout."""


class InputError(KfnError):
    """stdin is not something kfn can read (malformed YAML, not a ResourceList, ...)."""


class ConfigError(KfnError):
    """The AIPatches configuration is invalid; the message names key and value."""
