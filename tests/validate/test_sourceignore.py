"""The validator's model of `.sourceignore` (gitignore syntax, Flux docs "GitRepository: Excluding
files") agrees with git itself on the patterns it implements: `git check-ignore` is the oracle."""

from __future__ import annotations

import subprocess
import sys

from tooling import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "{{cookiecutter.repo}}"))
from tools.validate.sourceignore import FILE, SourceIgnore  # noqa: E402

PATTERNS = """\
# the generated repo's own
clusters/*/cluster.yaml
clusters/*/secrets/
templates/
# the rest of the subset: a name at any depth, negation, **, ?, a rooted path
notes.yaml
*.bak
!keep.bak
/top-only.yaml
docs/**/draft-?.yaml
"""
PATHS = [
    "clusters/production/cluster.yaml", "clusters/lab/cluster.yaml", "clusters/lab/apps.yaml", "clusters/lab/sub/cluster.yaml",
    "clusters/lab/secrets/open-webui.sops.yaml", "clusters/secrets/x.yaml", "templates/kubernetes/apps/base/ai/x.yaml",
    "kubernetes/templates/x.yaml", "kubernetes/rendered/lab/apps/x.yaml", "notes.yaml", "kubernetes/notes.yaml",
    "a.bak", "deep/b.bak", "keep.bak", "deep/keep.bak", "top-only.yaml", "kubernetes/top-only.yaml",
    "docs/draft-1.yaml", "docs/a/b/draft-2.yaml", "docs/a/draft-10.yaml",
]


def test_excluded_paths_are_the_ones_git_ignores(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(PATTERNS)
    (tmp_path / FILE).write_text(PATTERNS)
    git = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=tmp_path, input="\n".join(PATHS) + "\n", capture_output=True, text=True)
    ignored_by_git = set(git.stdout.split())
    model = SourceIgnore(tmp_path)
    assert {p for p in PATHS if model.excluded(p)} == ignored_by_git
    assert {"clusters/lab/cluster.yaml", "clusters/lab/secrets/open-webui.sops.yaml", "keep.bak"} & ignored_by_git == {"clusters/lab/cluster.yaml", "clusters/lab/secrets/open-webui.sops.yaml"}
