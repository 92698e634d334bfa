"""Before cookiecutter writes anything: refuse a directory that is already in use, then check every
answer and report all problems at once, with the way back to the answers already given.

cookiecutter renders this file with Jinja, so the answers arrive as a JSON literal. Standard library
(and cookiecutter itself) only: this runs in cookiecutter's interpreter.
"""

import json
import sys
from pathlib import Path

TEMPLATE_ROOT = Path({{ template_root | tojson }})
PROJECT_TEMPLATE = TEMPLATE_ROOT / "{{ '{{cookiecutter.repo}}' }}"
sys.path[:0] = [str(TEMPLATE_ROOT / "hooks"), str(PROJECT_TEMPLATE), str(TEMPLATE_ROOT)]  # TEMPLATE_ROOT: kfn

from bake import occupied, remove_template_copy  # noqa: E402
from tools.answers import CATALOG_FILE, answer_name, load_catalog, not_asked, problems, public_answers  # noqa: E402  (the generated repo's own rules)

CONTEXT = json.loads(r'''{{ cookiecutter | tojson }}''')
ANSWERS = public_answers(CONTEXT)  # every answer under its own name (hooks/questions.py)
UNASKED = [key for key in CONTEXT if answer_name(key, not_asked(CONTEXT)) not in (key, None)]  # as cookiecutter holds them


def replay_hint() -> list[str]:
    """Where cookiecutter saved these answers and the command that bakes again from them."""
    template = ANSWERS.get("_template")
    repo_dir = ANSWERS.get("_repo_dir")
    if not template or not repo_dir:
        return []  # not a cookiecutter command line (cruft, pytest-cookies with a context)
    try:
        from cookiecutter.config import get_user_config
        from cookiecutter.replay import get_file_name

        replay_file = get_file_name(get_user_config()["replay_dir"], Path(repo_dir).name)
    except Exception:  # an unreadable user config: the hint is a courtesy, the problems are the message
        return []
    output = ANSWERS.get("_output_dir")
    output_option = f" -o {output}" if output else ""
    unasked = [f"The answers this bake did not ask are there as __<key> ({', '.join(UNASKED[:2])}, ...)."] if UNASKED else []
    return [
        f"Your answers are saved in {replay_file}: fix the values named above there, then run",
        f"  cookiecutter --replay-file {replay_file}{output_option} {template}",
        *unasked,
    ]


def main() -> int:
    status = check()
    if status:
        remove_template_copy(TEMPLATE_ROOT)
    return status


def check() -> int:
    refusal = occupied(Path.cwd())
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    found = problems(ANSWERS, load_catalog(PROJECT_TEMPLATE / CATALOG_FILE))
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"{len(found)} invalid answer(s); nothing was generated.", file=sys.stderr)
        for line in replay_hint():
            print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
