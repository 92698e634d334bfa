"""What an installed server reads: env names as string literals in its package's source."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from environments import Server
from pods import Pod


@lru_cache(maxsize=None)
def string_literals(package: Path) -> frozenset[str]:
    """Every quoted identifier-like string in the package's Python files (os.getenv('X'), PersistentConfig('X', ...))."""
    found: set[str] = set()
    for file in package.rglob("*.py"):
        found.update(re.findall(r"""['"]([A-Z][A-Z0-9_]+)['"]""", file.read_text(errors="replace")))
    return frozenset(found)


def unread_env_names(pod: Pod, server: Server, package: str) -> list[str]:
    """The env names the container sets that neither the installed package nor a mounted config file
    (`os.environ/NAME`, LiteLLM's reference syntax) reads."""
    (site,) = server.venv.glob("lib/python*/site-packages")
    literals = string_literals(site / package)
    return [name for name in pod.env if name not in literals and f"os.environ/{name}" not in pod.config_text]
