"""Finish the bake: prune, copy kfn, provision the tools, then the repo's own `make bootstrap`.

cookiecutter renders this file with Jinja and runs it inside the new project. On failure it prints
the failed step, removes everything the bake wrote (the pre-generation check made sure the directory
was new or empty) and exits 1.
"""

import json
import sys
from pathlib import Path

TEMPLATE_ROOT = Path({{ template_root | tojson }})
# hooks/ for the bake; the project template's tools/ (and the template's kfn/, which they import) for the
# answer rules the bake writes into the new repo.
sys.path[:0] = [str(TEMPLATE_ROOT / "hooks"), str(TEMPLATE_ROOT / "{{ '{{cookiecutter.repo}}' }}"), str(TEMPLATE_ROOT)]

from bake import Bake, BakeError, remove_contents, remove_template_copy, run  # noqa: E402
from tools.answers import public_answers  # noqa: E402  (the generated repo's own answers module)

CONTEXT = json.loads(r'''{{ cookiecutter | tojson }}''')
ANSWERS = public_answers(CONTEXT)  # every answer under its own name (hooks/questions.py)


def main() -> int:
    bake = Bake(project=Path.cwd(), answers=ANSWERS, template_root=TEMPLATE_ROOT)
    try:
        run(bake)
    except BakeError as err:
        print(f"error: {err}", file=sys.stderr)
        remove_contents(bake.project)
        remove_template_copy(TEMPLATE_ROOT)
        print(f"error: removed everything this bake wrote to {bake.project}", file=sys.stderr)
        return 1
    if bake.is_cruft_scratch:
        return 0
    print(f"\nGenerated {bake.project}")
    for message in bake.messages:
        print("  " + message.replace("\n", "\n  "))
    print(f"  next: see {bake.project / 'clusters' / ANSWERS['cluster_name'] / 'README.md'} (push, then flux bootstrap)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
