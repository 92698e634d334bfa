"""Jinja extension for cookiecutter.json defaults, the template's files and the hook scripts.

`template_root`: cookiecutter renders each hook script while its working directory is the template
checkout (`hooks.run_hook_from_repo_dir` enters `repo_dir` before it builds the Jinja environment),
and that checkout is a temporary copy whenever `hooks/pre_prompt.py` exists. The working directory
at the time the environment is built is therefore the only place that names the right copy; the
module's own location does not, since a process that bakes twice keeps the first import.

Everything else comes from the generated repo's own `tools/answers.py` (`template_globals`), the module
`make render` renders each cluster's templates with, so the bake and the repo decide alike. It and the
catalog are loaded from the template being rendered each time cookiecutter builds an environment: cruft
bakes two template commits in one process, and the second must not see the first one's rules.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

import yaml
from jinja2.ext import Extension

PROJECT_TEMPLATE = "{{cookiecutter.repo}}"


def project_dir() -> Path:
    """The `{{cookiecutter.repo}}` directory of the template being rendered: cookiecutter renders the
    project's files from inside it (`generate_files` enters `template_dir`) and the hooks from the root.
    While it asks the questions the working directory is the user's: then this module's own template."""
    here = Path.cwd()
    # Not any directory with a tools/answers.py: `cruft update` runs in a generated repo, whose own copy is
    # the release being updated from, without what the new template's files need.
    for candidate in (here, here / PROJECT_TEMPLATE, Path(__file__).resolve().parent.parent / PROJECT_TEMPLATE):
        if candidate.name == PROJECT_TEMPLATE and (candidate / "tools" / "answers.py").is_file():
            return candidate
    raise FileNotFoundError(f"no tools/answers.py below {here}: the extension is for rendering the ai-gitops template")


@lru_cache(maxsize=8)
def load(project: Path, answers_text: str, catalog_text: str) -> tuple[dict, dict]:
    """(globals, filters) of the project's tools/answers.py, per content: cruft bakes two template commits
    in one process, from the same path, and the second must not see the first one's rules."""
    for name in [n for n in sys.modules if n.partition(".")[0] in ("tools", "kfn")]:
        del sys.modules[name]
    paths = [str(project), str(project.parent)]  # the project's tools/ and the template's kfn/
    sys.path[:0] = paths
    try:
        from tools import answers
    finally:
        del sys.path[:2]
    return answers.template_globals(yaml.safe_load(catalog_text)), answers.TEMPLATE_FILTERS


def current() -> tuple[dict, dict]:
    project = project_dir()
    return load(project, (project / "tools" / "answers.py").read_text(), (project / "catalog" / "services.yaml").read_text())


def late(kind: int, name: str):
    """A global or filter looked up when a template calls it, in the template being rendered then."""
    return lambda *args, **kwargs: current()[kind][name](*args, **kwargs)


class TemplateGlobals(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["template_root"] = os.getcwd()
        globals_, filters = current()
        environment.globals.update({name: late(0, name) for name in globals_})
        environment.filters.update({name: late(1, name) for name in filters})
