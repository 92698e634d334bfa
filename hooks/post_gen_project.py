"""Finish the bake: prune, copy kfn, create the age key, encrypt secrets, render, commit.

cookiecutter renders this file with Jinja and runs it inside the new project. On failure it
prints the failed step and exits 1; cookiecutter then removes the project directory.
"""

import json
import sys
from pathlib import Path

TEMPLATE_ROOT = Path({{ template_root | tojson }})
sys.path.insert(0, str(TEMPLATE_ROOT / "hooks"))

from bake import Bake, BakeError, run  # noqa: E402

ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')


def main() -> int:
    bake = Bake(project=Path.cwd(), answers=ANSWERS, template_root=TEMPLATE_ROOT)
    try:
        run(bake)
    except BakeError as err:
        print(f"error: {err}", file=sys.stderr)
        print("error: cookiecutter now removes the half-generated directory.", file=sys.stderr)
        return 1
    print(f"\nGenerated {bake.project}")
    for message in bake.messages:
        print(f"  {message}")
    print(f"  next: see {bake.project / 'README.md'} (push, then flux bootstrap)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
