"""KRM function adapter: a ResourceList in, a ResourceList with results out."""

from __future__ import annotations

from kfn import core, selectors, wire
from kfn.config import parse_config
from kfn.errors import ConfigError
from kfn.results import config_error


def run(text: str) -> tuple[str, int]:
    """(output ResourceList, exit code): 1 when a result is an error (rule 8), else 0.

    An unusable functionConfig is an error result with every item passed through
    unchanged, as kyaml's framework and the kpt catalog functions report it.
    Raises ``KfnError`` before producing any output when stdin is unusable.
    """
    source = wire.read_resource_list(text, exact_if=selectors.is_editable_source)
    try:
        config = parse_config(source.function_config)
    except ConfigError as err:
        return wire.write_resource_list(source, source.items, [config_error(source.function_config, str(err))]), 1
    items, results = core.process(source.items, config)
    return wire.write_resource_list(source, items, results), int(core.has_errors(results))
