"""How a bake runs: deterministic output, failures that name their step and leave nothing,
the cookiecutter command line with a relative template path, and the from-scratch tool setup."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyrage
import yaml

from template_repo import Baked, run
from tooling import TEMPLATE


def files(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


def decrypted_shape(project: Path, key_file: Path) -> dict[str, dict]:
    """Each Secret decrypted, with its values reduced to their length class (they are random)."""
    shapes = {}
    for path in sorted(project.glob("kubernetes/**/*.sops.yaml")):
        result = run(["sops", "decrypt", str(path)], project, SOPS_AGE_KEY_FILE=str(key_file))
        assert result.returncode == 0, result.stderr
        secret = yaml.safe_load(result.stdout)
        secret["stringData"] = {k: len(v) for k, v in secret["stringData"].items()}
        shapes[str(path.relative_to(project))] = secret
    return shapes


def test_two_bakes_with_the_same_answers_differ_only_in_random_secrets(cookies, tmp_path):
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "key.agekey"
    key_file.write_text(f"{identity}\n")
    answers = {"age_public_key": str(identity.to_public()), "enable_qdrant": "yes", "enable_litellm": "yes"}
    first, second = (cookies.bake(extra_context=answers) for _ in range(2))
    assert first.exit_code == second.exit_code == 0
    a, b = files(first.project_path), files(second.project_path)
    assert a.keys() == b.keys()
    differing = sorted(name for name in a if a[name] != b[name])
    assert differing and all(name.endswith(".sops.yaml") for name in differing), differing
    assert decrypted_shape(first.project_path, key_file) == decrypted_shape(second.project_path, key_file)
    # The tree of everything but the ciphertext is the same git tree, too.
    ls_tree = [run(["git", "ls-tree", "-r", "HEAD"], r.project_path).stdout for r in (first, second)]
    assert [[l for l in t.splitlines() if not l.endswith(".sops.yaml")] for t in ls_tree][0] == [
        l for l in ls_tree[1].splitlines() if not l.endswith(".sops.yaml")
    ]


def test_failed_step_is_named_and_the_directory_removed(cookies, capfd, monkeypatch, tmpdir):
    monkeypatch.setenv("VENV", str(Path(tmpdir, "no-such-venv")))
    result = cookies.bake()
    assert result.exit_code != 0
    assert "error: step 'provision tools' failed:" in capfd.readouterr().err
    assert not [p for p in Path(tmpdir, "cookies").rglob("*") if p.is_file()]


def test_sops_failure_stops_the_bake_before_anything_is_kept(cookies, capfd, monkeypatch, tmpdir):
    """A sops that fails (injected: a stand-in that exits 1) must not leave recipes or keys behind."""
    venv = Path(tmpdir, "broken-venv", "bin")
    venv.mkdir(parents=True)
    (venv / "python").write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    (venv / "python").chmod(0o755)
    (venv / "kubectl").symlink_to(Path(sys.prefix, "bin", "kubectl"))
    (venv / "sops").write_text("#!/bin/sh\necho 'sops: injected failure' >&2\nexit 1\n")
    (venv / "sops").chmod(0o755)
    monkeypatch.setenv("VENV", str(venv.parent))
    result = cookies.bake()
    assert result.exit_code != 0
    err = capfd.readouterr().err
    assert "error: step 'bootstrap' failed:" in err and "injected failure" in err, err
    assert not [p for p in Path(tmpdir, "cookies").rglob("*") if p.is_file()]


def test_command_line_with_relative_template_path(tmp_path):
    """`cookiecutter .` passes a relative _repo_dir; the hooks must still find the template."""
    result = run([str(Path(sys.prefix, "bin", "cookiecutter")), "--no-input", "-o", str(tmp_path), TEMPLATE.name], TEMPLATE.parent)
    assert result.returncode == 0, result.stderr
    assert f"age private key: {tmp_path / 'ai-gitops' / 'age.agekey'}" in result.stdout
    assert "make flux-secret" in result.stdout
    # VENV names the tools (conftest): nothing to install, so only the bootstrap's progress line.
    assert result.stderr.splitlines() == ["encrypting Secrets, rendering, first commit ..."]
    assert (tmp_path / "ai-gitops" / "kubernetes" / "rendered" / "production" / "apps" / "kustomization.yaml").is_file()


def test_render_refuses_a_transformer_that_touches_an_encrypted_secret(cookies):
    """A `labels:` transformer would re-write the encrypted Secrets (and break `sops -d`): render stops, output kept."""
    result = cookies.bake()
    assert result.exit_code == 0
    project = result.project_path
    overlay = project / "templates" / "kubernetes" / "apps" / "overlay" / "kustomization.yaml"
    overlay.write_text(overlay.read_text() + "labels:\n  - pairs:\n      team: ml\n")
    render = run(["make", "--no-print-directory", "render", f"VENV={sys.prefix}"], project)
    assert render.returncode != 0
    assert "clusters/production/secrets/open-webui.sops.yaml: a kustomize transformer changed this encrypted Secret" in render.stderr
    status = run(["git", "status", "--porcelain"], project).stdout
    assert status.split() == ["M", "templates/kubernetes/apps/overlay/kustomization.yaml"], "rendered/ must stay as it was"


def test_bakes_come_from_the_published_snapshot_not_the_work_tree(request):
    """cookiecutter copies the whole template before every bake (hooks/pre_prompt.py exists): from the
    work tree that would be .venv too, hundreds of MB per bake."""
    assert Path(request.config.option.template) == TEMPLATE
    assert not (TEMPLATE / ".venv").exists()
