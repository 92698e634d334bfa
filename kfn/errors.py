"""The two ways a run can fail before any output is written."""


class KfnError(Exception):
    """A problem that stops the run: one line on stderr, nothing on stdout."""


class InputError(KfnError):
    """stdin is not something kfn can read (malformed YAML, not a ResourceList, ...)."""


class ConfigError(KfnError):
    """The AIPatches configuration is invalid; the message names key and value."""


def type_name(value: object) -> str:
    """A value's type as messages name it, the same from both YAML backends (a tagged mapping is a dict)."""
    for kind in (bool, int, float, str, dict, list):
        if isinstance(value, kind):
            return kind.__name__
    return "null" if value is None else type(value).__name__
