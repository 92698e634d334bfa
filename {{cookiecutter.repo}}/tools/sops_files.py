"""The repo's SOPS facts in one place: where the Secrets are, what .sops.yaml says, and running sops.

Plaintext Secret values only ever travel through sops' stdin and stdout pipes, never a file or argv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tools import manifests

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / manifests.KUBERNETES
RENDERED = ROOT / manifests.RENDERED
SOPS_CONFIG = ROOT / manifests.SOPS_CONFIG
AGE_KEY = ROOT / manifests.AGE_KEY
CRUFT = ROOT / manifests.CRUFT_RECORD
SOPS_CONFIG_TEXT = """\
# SOPS: how `sops` encrypts the Secrets in this repository. The data and stringData of every
# kubernetes/**/*.sops.yaml are encrypted for the age recipient below (see README: rotating the key).
creation_rules:
  - path_regex: kubernetes/.*\\.sops\\.ya?ml$
    encrypted_regex: ^(data|stringData)$
    age: {recipient}
"""


class SopsError(Exception):
    pass


def sops_binary() -> str:
    """sops as `make` put it on PATH (the tool venv's bin first), else beside this interpreter."""
    return shutil.which("sops") or str(Path(sys.executable).parent / "sops")


def run_sops(args: list[str], stdin: str | None = None, keys: str | None = None) -> str:
    """Run sops from the repo root; `keys` (age identities) go through the environment, never argv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_AGE_")}
    if keys is not None:
        env["SOPS_AGE_KEY"] = keys
    result = subprocess.run([sops_binary(), *args], cwd=ROOT, input=stdin, capture_output=True, text=True, env=env)
    if result.returncode:
        detail = " ".join((result.stderr or result.stdout).split())[-600:]
        raise SopsError(f"sops {args[0]} exited {result.returncode}: {detail}")
    return result.stdout


def secret_files() -> list[Path]:
    """Every hand-kept *.sops.yaml under kubernetes/ (rendered/ holds copies of these)."""
    return sorted(p for p in KUBERNETES.rglob("*.sops.y*ml") if RENDERED not in p.parents)


def is_encrypted(path: Path) -> bool:
    document = yaml.safe_load(path.read_text())
    return isinstance(document, dict) and "sops" in document


def write_sops_config(recipient: str) -> None:
    SOPS_CONFIG.write_text(SOPS_CONFIG_TEXT.format(recipient=recipient))


def read_identity(path: Path) -> tuple[str, str]:
    """(recipient, identity) of an age key file as age-keygen and the bake write it."""
    import pyrage

    lines = [line.strip() for line in path.read_text().splitlines()]
    secret = next((line for line in lines if line.startswith("AGE-SECRET-KEY-")), None)
    if secret is None:
        raise SopsError(f"{path.name} holds no AGE-SECRET-KEY line")
    return str(pyrage.x25519.Identity.from_str(secret).to_public()), secret


def new_identity(path: Path) -> str:
    """Write a fresh age identity to `path` (mode 0600, never overwriting) and return its recipient."""
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(f"# public key: {recipient}\n{identity}\n")
    return recipient
