"""A cluster's encrypted Secrets, made from the recipes in templates/ the first time a render needs one.

A recipe (templates/.../<service>/secret.sops.yaml) is a Secret whose values are markers: each
<random:hex|urlsafe:N> becomes text from N fresh random bytes, each <env:NAME> that environment variable
(a value only the user knows, such as an OIDC client secret: never a file or argv). The filled Secret
exists only in memory and on sops' stdin; the cluster keeps the ciphertext in clusters/<name>/secrets/.
An existing Secret is never replaced, so renders stay byte-identical; one of a service the cluster no
longer deploys is removed, so neither Flux nor `make rotate-key` keeps it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import yaml

from tools import clusters
from tools.sops_files import ROOT, encrypt

PLACEHOLDER = re.compile(r"<random:(hex|urlsafe):([0-9]+)>")
RANDOM_TEXT: dict[str, Callable[[int], str]] = {"hex": secrets.token_hex, "urlsafe": secrets.token_urlsafe}
FROM_ENVIRONMENT = re.compile(r"<env:([A-Z][A-Z0-9_]*)>")
UNSET = "unset-replace-with-make-secret-edit"


def fill_placeholders(value: str, unset: list[str]) -> str:
    """Replace every <random:hex|urlsafe:N> with text made from N fresh random bytes, and every <env:NAME>
    with that environment variable (UNSET, and NAME added to `unset`, when it is not set)."""
    value = PLACEHOLDER.sub(lambda m: RANDOM_TEXT[m.group(1)](int(m.group(2))), value)

    def from_environment(match: re.Match[str]) -> str:
        if os.environ.get(match.group(1)):
            return os.environ[match.group(1)]
        unset.append(match.group(1))
        return UNSET

    return FROM_ENVIRONMENT.sub(from_environment, value)


def make(name: str, answers: dict, recipe: Path) -> list[str]:
    """Encrypt a fresh Secret from `recipe` for cluster `name`; returns what the user must still do."""
    document = yaml.safe_load(clusters.recipe_text(name, answers, recipe))
    unset: list[str] = []
    document["stringData"] = {k: fill_placeholders(str(v), unset) for k, v in sorted((document.get("stringData") or {}).items())}
    target = ROOT / clusters.secret_path(name, recipe)
    encrypt(document, target)
    relative = target.relative_to(ROOT)
    return [f"made {relative} (encrypted)"] + [f"{key} was not set: replace {UNSET} with `make secret-edit FILE={relative}`" for key in unset]


def prune(switched_off: list[Path]) -> list[str]:
    """Remove a cluster's Secrets of services it no longer deploys (Flux would not apply them anyway)."""
    messages = []
    for path in switched_off:
        if path.is_file():
            path.unlink()
            messages.append(f"removed {path.relative_to(ROOT)}: its service is switched off in this cluster")
    return messages
