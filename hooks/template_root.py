"""Jinja extension giving templates and hooks the template's absolute root.

cookiecutter renders hook scripts into a temporary file and runs them with the
new project as cwd, and `cookiecutter._repo_dir` is the path exactly as the user
typed it (often relative, e.g. `cookiecutter .`), so neither locates the
template. This module is imported from the template root itself, so its own
location does.
"""

from pathlib import Path

from jinja2.ext import Extension

ROOT = Path(__file__).resolve().parent.parent


class TemplateRoot(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["template_root"] = str(ROOT)
