"""What runs the validator besides `make validate`: pre-commit, the CI workflow, the CLI itself, and the answers record."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
import yaml

from tooling import VENV, age_identity, tool_env
from validate_repo import bake



def test_pre_commit_hooks_block_a_plaintext_secret(repo, tmp_path):
    pytest.importorskip("pre_commit", reason="pre-commit is not installed in this environment")
    (repo.path / ".venv").symlink_to(VENV)  # the hooks call the repo's .venv/bin/python
    hooks = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    pre_commit = [str(VENV / "bin" / "pre-commit"), "run", "--all-files"]
    clean = subprocess.run(pre_commit, cwd=repo.path, capture_output=True, text=True, env=hooks)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    repo.sops("decrypt", "--in-place", repo.secret)
    blocked = subprocess.run(pre_commit, cwd=repo.path, capture_output=True, text=True, env=hooks)
    assert blocked.returncode != 0
    assert f"{repo.secret}: Secret/open-webui-secrets: sops: not encrypted: a plaintext Secret is committed" in blocked.stdout
    assert "differs from what `make render` produces" in blocked.stdout  # the drift hook: rendered copy is stale


def test_workflow_steps_run_make_validate(repo):
    workflow = yaml.safe_load(repo.file(".github/workflows/validate.yaml").read_text())
    steps = workflow["jobs"]["validate"]["steps"]
    scripts = [step["run"] for step in steps if "run" in step]
    assert scripts[-1].strip() == "make validate"
    (repo.path / "age.agekey").unlink()  # CI has no key unless the SOPS_AGE_KEY secret is set
    for script in scripts:
        result = subprocess.run(["bash", "-e", "-c", script], cwd=repo.path, capture_output=True, text=True, env=tool_env(VENV=str(VENV), SOPS_AGE_KEY=""))
        assert result.returncode == 0, result.stdout + result.stderr
    assert not (repo.path / "age.agekey").exists()
    assert result.stdout.splitlines()[-1].startswith("validate: OK")


def test_progress_lines_only_on_a_terminal(repo):
    command = [sys.executable, "-m", "tools.validate"]
    piped = repo.run(*command)
    assert piped.returncode == 0 and "[1/5]" not in piped.stdout
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the validator, attached to the pseudo-terminal
        try:
            os.chdir(repo.path)
            os.execve(sys.executable, command, tool_env())
        finally:
            os._exit(127)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    text = output.decode()
    for i, stage in enumerate(("flux", "drift", "secrets", "schema", "policy"), 1):
        assert f"[{i}/5] {stage}: 0 problems" in text


def test_bad_kubernetes_version_is_one_line(repo):
    result = repo.run(sys.executable, "-m", "tools.validate", "--kubernetes-version", "9.99")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "--kubernetes-version '9.99' is not supported" in result.stderr


def test_answers_record_rebakes_the_same_repo(tmp_path):
    recipient, _ = age_identity()
    first = bake(tmp_path / "first", age_public_key=recipient, cluster_name="lab", enable_qdrant="yes")
    record = json.loads((first / ".cruft.json").read_text())
    answers = record["context"]["cookiecutter"]
    assert answers["cluster_name"] == "lab" and answers["enable_qdrant"] is True and answers["age_public_key"] == recipient
    assert {"kubernetes/**/*.sops.yaml", "age.agekey", ".venv", "kubernetes/rendered"} <= set(record["skip"])
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps(record["context"]))
    cookiecutter = str(VENV / "bin" / "cookiecutter")
    result = subprocess.run([cookiecutter, "--replay-file", str(replay), "-o", str(tmp_path / "second"), record["template"]],
                            capture_output=True, text=True, env=tool_env(VENV=str(VENV)))
    assert result.returncode == 0, result.stderr
    second = tmp_path / "second" / first.name

    def generated(root):
        # Secrets get fresh random values on every bake: compare everything else byte for byte.
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and ".git" not in p.relative_to(root).parts and not p.name.endswith(".sops.yaml")}

    assert generated(first) == generated(second)


def test_make_help_lists_every_target_once(repo):
    """`make` alone prints the targets, one line each, and no target is left out of that list."""
    listed = repo.run("make")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == repo.run("make", "help").stdout
    names = [line.split()[1] for line in listed.stdout.splitlines()]
    makefile = repo.file("Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:")).split()[1:]
    assert sorted(names) == sorted(set(names)) == sorted(phony)
    assert not (repo.path / ".venv").exists(), "make help must not install the tools"
