"""The post-generation steps: turn the rendered template into a committed, encrypted, rendered repo.

Each step is a small function of the Bake; `run` executes them in order and stops at the first
failure with a BakeError naming the step. Secret values exist only in memory and on sops' stdin.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

AGE_KEY_FILE = "age.agekey"
OVERLAY_LAYERS = ("infrastructure", "apps")
# kfn ships its own demo data and tests; the generated repo only needs the code.
KFN_EXCLUDED = ("testdata", "tests", "examples", "__pycache__", "*.pyc")
PLACEHOLDER = re.compile(r"<random:(hex|urlsafe):([0-9]+)>")
REQUIREMENT = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)$")
SOPS_CONFIG = """\
# SOPS: how `sops` encrypts the Secrets in this repository. The data and stringData of every
# kubernetes/**/*.sops.yaml are encrypted for the age recipient below (see README: rotating the key).
creation_rules:
  - path_regex: kubernetes/.*\\.sops\\.ya?ml$
    encrypted_regex: ^(data|stringData)$
    age: {recipient}
"""


class BakeError(Exception):
    def __init__(self, step: str, why: str):
        super().__init__(f"step '{step}' failed: {why}")
        self.step = step


@dataclass
class Bake:
    project: Path
    answers: dict
    template_root: Path
    recipient: str = ""
    venv: Path | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def cluster(self) -> str:
        return self.answers["cluster_name"]


def run_tool(command: list[str], cwd: Path, stdin: str | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True)
    if result.returncode:
        detail = (result.stderr or result.stdout).strip().splitlines()[-15:]
        raise RuntimeError(f"`{' '.join(command[:3])} ...` exited {result.returncode}: " + "\n".join(detail))
    return result.stdout


# --- pruning: one source of truth for what a bake contains -------------------------------------


def kustomization_entries(directory: Path) -> Iterator[Path]:
    document = yaml.safe_load((directory / "kustomization.yaml").read_text()) or {}
    for key in ("resources", "transformers", "generators", "components"):
        for entry in document.get(key) or []:
            yield (directory / entry).resolve()


def referenced(directory: Path) -> set[Path]:
    """Every file the kustomization in `directory` uses, following directory entries."""
    found = {(directory / "kustomization.yaml").resolve()}
    for entry in kustomization_entries(directory):
        found |= referenced(entry) if entry.is_dir() else {entry}
    return found


def prune_unreferenced(bake: Bake) -> None:
    """Remove what the answers switched off: files no overlay's kustomization reaches.

    The Jinja conditionals in the kustomization.yaml files decide what a bake contains;
    this removes the rest (a disabled service's manifests, another vendor's GPU config).
    """
    kubernetes = bake.project / "kubernetes"
    used: set[Path] = set()
    for layer in OVERLAY_LAYERS:
        used |= referenced(kubernetes / layer / bake.cluster)
    for path in sorted(kubernetes.rglob("*"), reverse=True):
        if path.is_file() and path.resolve() not in used:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# --- tools ------------------------------------------------------------------------------------


def pinned_requirements(project: Path) -> dict[str, str]:
    pins = {}
    for line in (project / "requirements.txt").read_text().splitlines():
        match = REQUIREMENT.match(line.strip())
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def has_requirements(pins: dict[str, str]) -> bool:
    try:
        return all(importlib.metadata.version(name) == version for name, version in pins.items())
    except importlib.metadata.PackageNotFoundError:
        return False


def choose_tools(bake: Bake) -> None:
    """Use $VENV if set, else this interpreter's environment when it has the pinned tools,
    else let the repo's Makefile create .venv (which needs the package index once)."""
    chosen = os.environ.get("VENV")
    if not chosen and has_requirements(pinned_requirements(bake.project)):
        chosen = sys.prefix
    if not chosen or chosen == ".venv":
        run_tool(["make", "--no-print-directory", ".venv/.installed"], bake.project)
        chosen = ".venv"
    bake.venv = Path(chosen) if Path(chosen).is_absolute() else bake.project / chosen
    for tool in ("python", "kubectl", "sops"):
        if not (bake.venv / "bin" / tool).exists():
            raise RuntimeError(f"{bake.venv} has no bin/{tool}: install requirements.txt into it")


# --- steps ------------------------------------------------------------------------------------


def copy_kfn(bake: Bake) -> None:
    source = bake.template_root / "kfn"
    plugin = source / "plugin" / "kfn.ai-gitops.dev" / "v1alpha1" / "aipatches" / "AIPatches"
    if not plugin.is_file():
        raise RuntimeError(f"{plugin} is missing: the template's kfn is incomplete")
    shutil.copytree(source, bake.project / "kfn", ignore=shutil.ignore_patterns(*KFN_EXCLUDED))


def age_key(bake: Bake) -> None:
    given = bake.answers["age_public_key"]
    if given:
        bake.recipient = given
        bake.messages.append(f"SOPS recipient: {given} (your key; no private key was written)")
        return
    import pyrage  # only needed when the template generates the key pair

    identity = pyrage.x25519.Identity.generate()
    bake.recipient = str(identity.to_public())
    key_path = bake.project / AGE_KEY_FILE
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(f"# public key: {bake.recipient}\n{identity}\n")
    bake.messages.append(
        f"age private key: {key_path} (mode 0600, git-ignored; back it up outside git)\n"
        f"  load it into Flux: cd {bake.project} && make flux-secret\n"
        f"  (that is: kubectl -n flux-system create secret generic sops-age --from-file=age.agekey={key_path})"
    )


def template_commit(template_root: Path) -> str | None:
    """The template checkout's HEAD, so `cruft update` knows where this repo came from."""
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=template_root, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def record_answers(bake: Bake) -> None:
    """Complete .cruft.json with what only the bake knows: the recipient it used (a generated
    key's public half, so a re-bake or `cruft update` keeps the key) and the template commit."""
    path = bake.project / ".cruft.json"
    record = json.loads(path.read_text())
    record["context"]["cookiecutter"]["age_public_key"] = bake.recipient
    record["commit"] = template_commit(bake.template_root)
    path.write_text(json.dumps(record, indent=4) + "\n")


def sops_config(bake: Bake) -> None:
    (bake.project / ".sops.yaml").write_text(SOPS_CONFIG.format(recipient=bake.recipient))


RANDOM_TEXT: dict[str, Callable[[int], str]] = {"hex": secrets.token_hex, "urlsafe": secrets.token_urlsafe}


def fill_placeholders(value: str) -> str:
    """Replace every <random:hex|urlsafe:N> with text made from N fresh random bytes."""
    return PLACEHOLDER.sub(lambda m: RANDOM_TEXT[m.group(1)](int(m.group(2))), value)


def secret_recipes(project: Path) -> list[Path]:
    """The *.sops.yaml files the template wrote in plaintext form (recipes without values)."""
    recipes = []
    for path in sorted((project / "kubernetes").rglob("*.sops.yaml")):
        document = yaml.safe_load(path.read_text())
        if isinstance(document, dict) and "sops" not in document:
            recipes.append(path)
    return recipes


def encrypt_secrets(bake: Bake) -> None:
    sops = str(bake.venv / "bin" / "sops")
    for path in secret_recipes(bake.project):
        document = yaml.safe_load(path.read_text())
        document["stringData"] = {k: fill_placeholders(v) for k, v in sorted(document.get("stringData", {}).items())}
        plaintext = yaml.safe_dump(document, sort_keys=False)
        relative = str(path.relative_to(bake.project))
        command = [sops, "encrypt", "--filename-override", relative,
                   "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"]
        ciphertext = run_tool(command, bake.project, stdin=plaintext)
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(ciphertext)
        staging.replace(path)


def render(bake: Bake) -> None:
    output = run_tool(["make", "--no-print-directory", "render", f"VENV={bake.venv}"], bake.project)
    bake.messages.append(output.strip().replace("\n", "\n  "))


def commit(bake: Bake) -> None:
    import git  # GitPython

    repo = git.Repo.init(bake.project, initial_branch=bake.answers["git_branch"])
    paths = sorted(repo.untracked_files)
    if AGE_KEY_FILE in paths:
        raise RuntimeError(f"{AGE_KEY_FILE} is not git-ignored")
    repo.index.add(paths)
    config = repo.config_reader()
    configured = config.has_option("user", "name") and config.has_option("user", "email")
    author = None if configured else git.Actor("ai-gitops cookiecutter", "ai-gitops@localhost")
    repo.index.commit("Initial commit from the ai-gitops cookiecutter", author=author, committer=author)
    bake.messages.append(f"git: branch {bake.answers['git_branch']}, one commit, {len(paths)} files")


STEPS: tuple[tuple[str, Callable[[Bake], None]], ...] = (
    ("prune disabled services", prune_unreferenced),
    ("choose tools", choose_tools),
    ("copy kfn", copy_kfn),
    ("age key", age_key),
    ("write .sops.yaml", sops_config),
    ("record answers", record_answers),
    ("encrypt secrets", encrypt_secrets),
    ("render", render),
    ("git commit", commit),
)


def run(bake: Bake) -> None:
    for name, step in STEPS:
        try:
            step(bake)
        except Exception as err:  # every failure becomes one message naming its step
            raise BakeError(name, str(err) or type(err).__name__) from err
