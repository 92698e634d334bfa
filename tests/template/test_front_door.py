"""The user's real path: only python3, make, git and cookiecutter on the machine, the README's commands as
written, and a second run over a repo that already exists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tooling import ROOT, TEMPLATE, VENV

COOKIECUTTER = [sys.executable, "-m", "cookiecutter"]


def user_env(tmp_path: Path, path: str, **extra: str) -> dict[str, str]:
    """A user's shell: its own HOME (replay files land there), no VENV, no outer make, the given PATH."""
    drop = ("VENV", "MAKELEVEL", "MAKEFLAGS", "MFLAGS", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**env, "HOME": str(home), "PATH": path, **extra}


def bake_cli(args: list[str], env: dict[str, str], stdin: str | None = None, cookiecutter: list[str] = COOKIECUTTER):
    return subprocess.run([*cookiecutter, *args], capture_output=True, text=True, env=env, input=stdin, timeout=600)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below root, .git and ignored files included, with its bytes and mode."""
    return {
        str(p.relative_to(root)): p.read_bytes() + oct(p.stat().st_mode).encode()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".venv" not in p.relative_to(root).parts
    }


def test_fresh_virtualenv_with_only_cookiecutter(tmp_path):
    """pip install cookiecutter, then the README's command: the bake provisions the repo's own .venv
    (the package index once), and an interactive bake with every default works the same way."""
    venv = tmp_path / "cc"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "cookiecutter==2.7.1"], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    only_cookiecutter = [str(venv / "bin" / "cookiecutter")]
    env = user_env(tmp_path, f"{venv / 'bin'}{os.pathsep}{os.defpath}")

    result = bake_cli(["--no-input", "-o", str(tmp_path / "out"), str(TEMPLATE)], env, cookiecutter=only_cookiecutter)
    assert result.returncode == 0, result.stderr
    repo = tmp_path / "out" / "ai-gitops"
    # The long silent steps after the last question are announced before they start.
    assert result.stderr.splitlines() == [
        f"installing the repo's tools into {repo / '.venv'} (pip; about 2 minutes the first time, seconds from pip's cache) ...",
        "encrypting Secrets, rendering, first commit ...",
    ]
    assert (repo / ".venv" / "bin" / "sops").is_file() and (repo / "age.agekey").is_file()
    assert (repo / "kubernetes" / "rendered" / "production" / "apps" / "kustomization.yaml").is_file()
    log = subprocess.run(["git", "log", "--oneline"], cwd=repo, capture_output=True, text=True).stdout
    assert len(log.splitlines()) == 1
    validate = subprocess.run(["make", "--no-print-directory", "validate"], cwd=repo, capture_output=True, text=True, env=env)
    assert validate.returncode == 0, validate.stdout + validate.stderr

    # Interactive: every question answered with its default (Enter), tools from the first bake's .venv: at
    # most 20 questions, and the repo the --no-input bake wrote, every unasked answer in cluster.yaml.
    interactive = bake_cli(["-o", str(tmp_path / "interactive"), str(TEMPLATE)], {**env, "VENV": str(repo / ".venv")},
                           stdin="\n" * len(ASKED), cookiecutter=only_cookiecutter)
    assert interactive.returncode == 0, interactive.stdout[-2000:] + interactive.stderr
    assert f"[{len(ASKED)}/{len(ASKED)}]" in interactive.stdout and len(ASKED) <= 20
    assert f"ai-gitops asks {len(ASKED)} questions. These {len(NOT_ASKED)} keep their defaults" in interactive.stdout
    again = tmp_path / "interactive" / "ai-gitops"
    assert (again / "kubernetes" / "rendered").is_dir() and not (again / ".venv").exists()
    answers_file = Path("clusters") / "production" / "cluster.yaml"
    key_line = re.compile(r"^age_public_key: .*$", re.M)
    assert key_line.sub("", (again / answers_file).read_text()) == key_line.sub("", (repo / answers_file).read_text())


COOKIECUTTER_JSON = json.loads((ROOT / "cookiecutter.json").read_text())
NOT_ASKED = COOKIECUTTER_JSON["_not_asked"]
ASKED = [k for k in COOKIECUTTER_JSON if not k.startswith("_") and k not in NOT_ASKED]


def typed(**answers: str) -> str:
    """What a user types at the interactive questions: these answers, Enter at every other."""
    return "".join(answers.get(key, "") + "\n" for key in ASKED)


def test_an_unasked_answer_is_fixed_through_the_replay_file_or_named_on_the_command_line(tmp_path):
    """Interactive, with a StorageClass whose CSI driver nobody can guess and csi-snapshot backups: the
    unasked csi_driver is refused by name, the replay file holds it as __csi_driver, and the replay with
    it filled in bakes. Named on the command line, the same answer is asked and kept."""
    env = user_env(tmp_path, f"{VENV / 'bin'}{os.pathsep}{os.defpath}", VENV=str(VENV))
    out = tmp_path / "out"
    stdin = typed(storage_class="ceph-block", backup_method="2")
    refused = bake_cli(["-o", str(out), str(TEMPLATE)], env, stdin=stdin)
    assert refused.returncode != 0 and not (out / "ai-gitops").exists()
    assert "csi_driver: (empty) — backup_method csi-snapshot needs the CSI driver of StorageClass ceph-block" in refused.stderr, refused.stderr
    assert "The answers this bake did not ask are there as __<key>" in refused.stderr
    command = re.search(r"^  (cookiecutter --replay-file .*)$", refused.stderr, re.M).group(1).split()
    replay = Path(command[2])
    saved = json.loads(replay.read_text())
    assert saved["cookiecutter"]["__csi_driver"] == "" and "csi_driver" not in saved["cookiecutter"]
    saved["cookiecutter"]["__csi_driver"] = "rook-ceph.rbd.csi.ceph.com"
    replay.write_text(json.dumps(saved))
    fixed = bake_cli(command[1:], env)
    assert fixed.returncode == 0, fixed.stderr
    answers = (out / "ai-gitops" / "clusters" / "production" / "cluster.yaml").read_text()
    assert "csi_driver: rook-ceph.rbd.csi.ceph.com\n" in answers and "storage_class: ceph-block\n" in answers

    named = bake_cli(["-o", str(tmp_path / "named"), str(TEMPLATE), "namespace=kube-system"], env, stdin=typed() + "\n")
    assert f"[{len(ASKED) + 1}/{len(ASKED) + 1}]" in named.stdout
    assert named.returncode != 0 and "namespace: kube-system — " in named.stderr, named.stderr


@pytest.mark.parametrize("runner", [["uvx", "--from", "cookiecutter==2.7.1", "cookiecutter"],
                                    ["pipx", "run", "--spec", "cookiecutter==2.7.1", "cookiecutter"]], ids=["uvx", "pipx"])
def test_uvx_and_pipx_run_cookiecutter_in_an_interpreter_of_its_own(tmp_path, runner):
    """The README's other ways to run cookiecutter: an isolated interpreter holding only cookiecutter."""
    env = user_env(tmp_path, f"{VENV / 'bin'}{os.pathsep}{os.defpath}", VENV=str(VENV),
                   PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "pipx-bin"))
    command = [str(VENV / "bin" / runner[0]), *runner[1:]]
    result = bake_cli(["--no-input", "-o", str(tmp_path / "out"), str(TEMPLATE), "enable_whisper=no"], env, cookiecutter=command)
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr[-1500:]
    assert (tmp_path / "out" / "ai-gitops" / "kubernetes" / "rendered" / "production" / "apps" / "kustomization.yaml").is_file()


def test_named_venv_bakes_without_the_package_index(tmp_path):
    """VENV names an environment that has the tools: nothing is installed, so no index is needed."""
    offline = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "VENV": str(VENV)}
    env = user_env(tmp_path, f"{VENV / 'bin'}{os.pathsep}{os.defpath}", **offline)
    result = bake_cli(["--no-input", "-o", str(tmp_path), str(TEMPLATE), "enable_whisper=no"], env)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "ai-gitops" / ".venv").exists()


def test_missing_prerequisites_are_named_before_any_question(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)  # python3 with venv, but no make and no git
    result = bake_cli(["-o", str(tmp_path / "out"), str(TEMPLATE)], user_env(tmp_path, str(bin_dir)), stdin="")
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert any(line.startswith("make: not found on PATH — install it") for line in lines), result.stderr
    assert any(line.startswith("git: not found on PATH — install it") for line in lines), result.stderr
    assert "repo [" not in result.stdout  # no question was asked
    assert not (tmp_path / "out").exists()


def test_rebake_over_an_existing_repo_refuses_and_changes_nothing(tmp_path):
    env = user_env(tmp_path, f"{VENV / 'bin'}{os.pathsep}{os.defpath}", VENV=str(VENV))
    assert bake_cli(["--no-input", "-o", str(tmp_path), str(TEMPLATE)], env).returncode == 0
    repo = tmp_path / "ai-gitops"
    (repo / "notes.txt").write_text("untracked, mine\n")
    (repo / "scratch.agekey").write_text("ignored, mine\n")
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nmy edit\n")
    before = tree_bytes(repo)
    for flags in (["--overwrite-if-exists"], ["--overwrite-if-exists", "--skip-if-file-exists"]):
        result = bake_cli(["--no-input", *flags, "-o", str(tmp_path), str(TEMPLATE)], env)
        assert result.returncode != 0
        assert f"{repo} already holds a repository (.cruft.json, .git); nothing was changed." in result.stderr
        assert "cruft update" in result.stderr
        assert tree_bytes(repo) == before


def test_rejected_answers_point_at_the_replay_file_and_the_command(tmp_path):
    scratch = tmp_path / "tmp"  # where cookiecutter copies the template (TMPDIR): nothing may stay there
    scratch.mkdir()
    env = user_env(tmp_path, f"{VENV / 'bin'}{os.pathsep}{os.defpath}", VENV=str(VENV), TMPDIR=str(scratch))
    out = tmp_path / "out"
    result = bake_cli(["--no-input", "-o", str(out), str(TEMPLATE), "open_webui_ip=10.10.9.9"], env)
    assert result.returncode != 0 and not out.joinpath("ai-gitops").exists()
    assert [p.name for p in scratch.iterdir() if p.name.startswith("cookiecutter")] == []
    assert "open_webui_ip: 10.10.9.9 — is outside lb_pool 10.10.2.24/29" in result.stderr
    replay = tmp_path / "home" / ".cookiecutter_replay" / "ai-gitops.json"
    assert f"Your answers are saved in {replay}" in result.stderr
    command = re.search(r"^  (cookiecutter --replay-file .*)$", result.stderr, re.M).group(1).split()
    assert command == ["cookiecutter", "--replay-file", str(replay), "-o", str(out), str(TEMPLATE)]
    answers = json.loads(replay.read_text())
    answers["cookiecutter"]["open_webui_ip"] = "10.10.2.29"
    replay.write_text(json.dumps(answers))
    fixed = bake_cli(command[1:], env)
    assert fixed.returncode == 0, fixed.stderr
    assert "10.10.2.29" in (out / "ai-gitops" / "kubernetes" / "rendered" / "production" / "apps" / "ai" / "service-open-webui.yaml").read_text()


def readme_commands() -> list[list[str]]:
    """The `cookiecutter gh:org/ai-gitops --no-input ...` lines of the README's "Using the template"."""
    section = (ROOT / "README.md").read_text().split("## Using the template", 1)[1].split("\n## ", 1)[0]
    lines = [line.split("#", 1)[0].split() for line in section.splitlines() if line.startswith("cookiecutter gh:")]
    return [words for words in lines if "--no-input" in words]


@pytest.mark.parametrize("words", readme_commands(), ids=lambda words: " ".join(words[3:]) or "defaults")
def test_readme_template_examples_bake_as_written(tmp_path, words):
    env = user_env(tmp_path, f"{VENV / 'bin'}{os.pathsep}{os.defpath}", VENV=str(VENV))
    args = [str(TEMPLATE) if word == "gh:org/ai-gitops" else word for word in words[1:]]
    result = bake_cli([*args, "-o", str(tmp_path)], env)
    assert result.returncode == 0, result.stderr
