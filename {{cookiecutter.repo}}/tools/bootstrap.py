"""Finish a freshly generated repo: age key, .sops.yaml, encrypted Secrets, rendered output, first commit.

Usage: make bootstrap (the cookiecutter bake runs it).
Reads the answers from .cruft.json. Refuses a repo that already has a git history.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable

import yaml

from tools.sops_files import AGE_KEY, CRUFT, ROOT, SopsError, is_encrypted, new_identity, run_sops, secret_files, write_sops_config

PLACEHOLDER = re.compile(r"<random:(hex|urlsafe):([0-9]+)>")
RANDOM_TEXT: dict[str, Callable[[int], str]] = {"hex": secrets.token_hex, "urlsafe": secrets.token_urlsafe}
# A value only the user knows (an OIDC client secret): from the bake's environment, never a file or argv.
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


def choose_recipient(answers: dict, messages: list[str]) -> str:
    given = answers.get("age_public_key") or ""
    if given:
        messages.append(f"SOPS recipient: {given} (your key; no private key was written)")
        return given
    recipient = new_identity(AGE_KEY)
    messages.append(
        f"age private key: {AGE_KEY} (mode 0600, git-ignored; back it up outside git)\n"
        f"  load it into Flux: cd {ROOT} && make flux-secret\n"
        f"  (that is: kubectl -n flux-system create secret generic sops-age --from-file=age.agekey={AGE_KEY})"
    )
    return recipient


def record(record_: dict, recipient: str, template: str, commit: str) -> None:
    """.cruft.json in cruft's format with what only the bake knows: the recipient it used (a generated
    key's public half, so `cruft update` keeps the key), the template as cruft can reach it, its commit."""
    record_["context"]["cookiecutter"]["age_public_key"] = recipient
    if template:
        record_["template"] = template
        record_["context"]["cookiecutter"]["_template"] = template
    record_["commit"] = commit or None
    CRUFT.write_text(json.dumps(record_, indent=4) + "\n")


def encrypt_recipes(messages: list[str]) -> None:
    """Each plaintext *.sops.yaml is a recipe without values: fill it in memory, encrypt through stdin."""
    for path in secret_files():
        if is_encrypted(path):
            continue
        document = yaml.safe_load(path.read_text())
        unset: list[str] = []
        document["stringData"] = {k: fill_placeholders(str(v), unset) for k, v in sorted((document.get("stringData") or {}).items())}
        relative = str(path.relative_to(ROOT))
        messages.extend(f"{name} was not set: replace {UNSET} with `make secret-edit FILE={relative}`" for name in unset)
        args = ["encrypt", "--filename-override", relative, "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"]
        ciphertext = run_sops(args, stdin=yaml.safe_dump(document, sort_keys=False))
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(ciphertext)
        staging.replace(path)


def makefile_layers() -> list[str]:
    """The Makefile's LAYERS, so the bake renders exactly the layers `make render` does."""
    for line in (ROOT / "Makefile").read_text().splitlines():
        name, _, value = line.partition(":=")
        if name.strip() == "LAYERS":
            return value.split()
    raise SopsError("Makefile has no LAYERS line")


def render(cluster: str) -> str:
    """`make render`'s own command, so the first rendered output is what every later render gives."""
    command = [sys.executable, "-m", "tools.render", cluster, *makefile_layers()]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        raise SopsError(result.stderr.strip())
    return result.stdout.strip()


def commit(branch: str) -> str:
    import git  # GitPython

    repo = git.Repo.init(ROOT, initial_branch=branch)
    paths = sorted(repo.untracked_files)
    if AGE_KEY.name in paths:
        raise SopsError(f"{AGE_KEY.name} is not git-ignored")
    repo.index.add(paths)
    config = repo.config_reader()
    configured = config.has_option("user", "name") and config.has_option("user", "email")
    author = None if configured else git.Actor("ai-gitops cookiecutter", "ai-gitops@localhost")
    repo.index.commit("Initial commit from the ai-gitops cookiecutter", author=author, committer=author)
    return f"git: branch {branch}, one commit, {len(paths)} files"


def bootstrap(template: str, template_commit: str) -> list[str]:
    if (ROOT / ".git").exists():
        raise SopsError(f"{ROOT} already has a git history; bootstrap is for a freshly generated repo")
    record_ = json.loads(CRUFT.read_text())
    answers = record_["context"]["cookiecutter"]
    messages: list[str] = []
    recipient = choose_recipient(answers, messages)
    write_sops_config(recipient)
    record(record_, recipient, template, template_commit)
    encrypt_recipes(messages)
    messages.append(render(answers["cluster_name"]))
    messages.append(commit(answers["git_branch"]))
    return messages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bootstrap", description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="", help="the template as cruft reaches it (path or git URL)")
    parser.add_argument("--template-commit", default="", help="the template commit this repo was generated from")
    options = parser.parse_args(argv)
    try:
        messages = bootstrap(options.template, options.template_commit)
    except Exception as err:  # one line for the hook to show, whichever tool failed
        print(f"bootstrap: {err or type(err).__name__}", file=sys.stderr)
        return 1
    print("\n".join(messages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
