"""KRM function adapter: a ResourceList in, a ResourceList with results out."""

from __future__ import annotations

from kfn import core, selectors, wire
from kfn.config import parse_config


def run(text: str) -> tuple[str, int]:
    """(output ResourceList, exit code): 1 when a result is an error (rule 8), else 0.

    Raises ``KfnError`` before producing any output when stdin or the config is unusable.
    """
    source = wire.read_resource_list(text, exact_if=selectors.is_editable_source)
    config = parse_config(source.function_config)
    items, results = core.process(source.items, config)
    return wire.write_resource_list(source, items, results), int(core.has_errors(results))
