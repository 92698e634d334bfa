"""Finish a freshly generated repo: age key, the first cluster, its Secrets and rendered output, first commit.

Usage: make bootstrap (the cookiecutter bake runs it).
Reads the answers from .cruft.json and writes them to clusters/<cluster_name>/cluster.yaml; `make render`
does the rest (.sops.yaml, the encrypted Secrets, kubernetes/rendered/). Refuses a repo with a git history.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from tools import clusters
from tools.sops_files import AGE_KEY, CRUFT, ROOT, SopsError, new_identity

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


def render() -> str:
    """`make render`'s own command, so the first rendered output is what every later render gives."""
    result = subprocess.run([sys.executable, "-m", "tools.render"], cwd=ROOT, capture_output=True, text=True)
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
    record(record_, recipient, template, template_commit)
    # The first cluster is made the way `make add-cluster` makes every other: its answers file, then a render.
    clusters.write_answers(answers["cluster_name"], answers)
    messages.append(render())
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
