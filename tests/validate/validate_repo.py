"""A baked repo under test, driven only through its real tools: cookiecutter, make, sops, git."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml
from cookiecutter.main import cookiecutter

from tooling import TEMPLATE, VENV, tool_env

SUMMARY = re.compile(r"^validate: (?:OK,|(\d+) problems? \((.*)\)$)")


def bake(output_dir: Path, template: Path = TEMPLATE, **answers: str) -> Path:
    """`cookiecutter --no-input` with the given answers; the project directory."""
    old = os.environ.get("VENV")
    os.environ["VENV"] = str(VENV)
    try:
        return Path(cookiecutter(str(template), no_input=True, extra_context=answers, output_dir=str(output_dir)))
    finally:
        if old is None:
            os.environ.pop("VENV", None)
        else:
            os.environ["VENV"] = old


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def stages(self) -> dict[str, int]:
        """Problems per stage, from the summary line (empty when validate passed)."""
        match = next(filter(None, (SUMMARY.match(line) for line in self.lines)), None)
        assert match is not None, f"no summary line in:\n{self.stdout}\n{self.stderr}"
        if match.group(1) is None:
            return {}
        return {stage: int(n) for stage, n in (part.rsplit(" ", 1) for part in match.group(2).split(", "))}

    def problem(self, *fragments: str) -> str:
        """The one problem line containing every fragment (fails listing the output otherwise)."""
        found = [line for line in self.lines if all(f in line for f in fragments)]
        assert len(found) == 1, f"expected one line with {fragments}, got {found} in:\n{self.stdout}{self.stderr}"
        return found[0]


@dataclass
class Repo:
    path: Path

    def run(self, *command: str, stdin: str | None = None, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=self.path, input=stdin, capture_output=True, text=True, env=tool_env(**extra_env))

    def make(self, *targets: str) -> subprocess.CompletedProcess:
        return self.run("make", "--no-print-directory", *targets, f"VENV={VENV}")

    def render(self) -> None:
        result = self.make("render")
        assert result.returncode == 0, result.stderr

    def validate(self, *args: str) -> Outcome:
        result = self.make("validate", *args)
        return Outcome(result.returncode, result.stdout, result.stderr)

    def file(self, rel: str) -> Path:
        return self.path / rel

    def freeze(self, rel: str) -> None:
        """Replace template `rel` (templates/...) by what it renders for the repo's one cluster: plain YAML,
        as a user of one cluster may write it, which a test can then edit like any manifest."""
        program = (
            "import sys; from pathlib import Path; from tools import clusters as c; "
            "print(c.render_template(c.environment(c.load_catalog()), Path(sys.argv[1]), c.load(sys.argv[2])), end='')"
        )
        result = self.run(str(VENV / "bin" / "python"), "-c", program, rel, self.cluster)
        assert result.returncode == 0, result.stderr
        self.file(rel).write_text(result.stdout)

    def edit(self, rel: str, old: str, new: str) -> None:
        """Replace `old` by `new` once in `rel`; a template is frozen first (`freeze`)."""
        if rel.startswith("templates/") and "{" in self.file(rel).read_text():
            self.freeze(rel)
        path = self.file(rel)
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    def readme_block(self, heading: str) -> str:
        """The shell block under `### heading` in the repo's README or its cluster's (clusters/<name>/README.md,
        rendered from templates/flux/), as a user would copy it."""
        readmes = [self.file("README.md").read_text(), self.file(f"clusters/{self.cluster}/README.md").read_text()]
        readme = next((text for text in readmes if f"\n### {heading}\n" in text), "")
        assert readme, f"no ### {heading} in README.md or clusters/{self.cluster}/README.md"
        section = readme.split(f"\n### {heading}\n", 1)[1].split("\n#", 1)[0]
        match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
        assert match, f"no sh block under ### {heading}"
        return match.group(1)

    def run_block(self, block: str) -> subprocess.CompletedProcess:
        """A README block in bash, stopping at the first failing command, with this suite's tool environment."""
        git_identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@localhost"}
        return self.run("bash", "-e", "-c", block, VENV=str(VENV), **git_identity)

    def load(self, rel: str) -> list[dict]:
        if rel.startswith("templates/") and "{" in self.file(rel).read_text():
            self.freeze(rel)
        return [d for d in yaml.safe_load_all(self.file(rel).read_text()) if d]

    @property
    def answers(self) -> dict:
        """The answers of the repo's one cluster (clusters/<name>/cluster.yaml)."""
        return yaml.safe_load(self.file(f"clusters/{self.cluster}/cluster.yaml").read_text())

    @property
    def secret(self) -> str:
        """Open WebUI's encrypted Secret as the cluster keeps it."""
        return f"clusters/{self.cluster}/secrets/open-webui.sops.yaml"

    def sops(self, *args: str, stdin: str | None = None) -> str:
        result = self.run("sops", *args, stdin=stdin, SOPS_AGE_KEY_FILE=str(self.file("age.agekey")))
        assert result.returncode == 0, result.stderr
        return result.stdout

    @property
    def cluster(self) -> str:
        return next(p.name for p in sorted(self.file("clusters").iterdir()) if (p / "cluster.yaml").is_file())
