"""Jinja extension for cookiecutter.json defaults and the hook scripts.

`template_root`: cookiecutter renders each hook script while its working directory is the template
checkout (`hooks.run_hook_from_repo_dir` enters `repo_dir` before it builds the Jinja environment),
and that checkout is a temporary copy whenever `hooks/pre_prompt.py` exists. The working directory
at the time the environment is built is therefore the only place that names the right copy; the
module's own location does not, since a process that bakes twice keeps the first import.

`lb_pool_ip(n)`: the n-th usable address of an `lb_pool` answer, so the IP prompts offer addresses
inside the pool the user just entered ("" when the pool is not valid: the pre-generation check says why).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jinja2.ext import Extension

sys.path.insert(0, str(Path(__file__).resolve().parent))

from answers import nth_pool_address  # noqa: E402


class TemplateGlobals(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["template_root"] = os.getcwd()
        environment.filters["lb_pool_ip"] = nth_pool_address
