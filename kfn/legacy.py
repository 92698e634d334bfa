"""Legacy kustomize exec-plugin adapter: argv[1] names the config, stdin/stdout are YAML streams.

kustomize throws away anything but the exit code and stdout, and shows stderr
only on failure, so results become one stderr line each.
"""

from __future__ import annotations

from kfn import core, selectors, wire, yamlio
from kfn.config import Config, parse_config
from kfn.errors import ConfigError
from kfn.results import display


def read_config(path: str) -> Config:
    try:
        with open(path, encoding="utf-8") as source:
            text = source.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path}: cannot read it ({err.__class__.__name__}: {err})") from None
    return parse_config(yamlio.parse(text))


def run(text: str, config_path: str) -> tuple[str, list[str], int]:
    """(output stream, stderr lines, exit code)."""
    config = read_config(config_path)
    source = wire.read_stream(text, exact_if=selectors.is_editable_source)
    items, results = core.process(source.items, config)
    return wire.write_stream(source, items), [display(r) for r in results], int(core.has_errors(results))
