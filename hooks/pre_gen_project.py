"""Check every answer before cookiecutter writes anything; report all problems at once.

cookiecutter renders this file with Jinja, so the answers arrive as a JSON literal.
"""

import json
import sys

sys.path.insert(0, {{ (template_root ~ "/hooks") | tojson }})

from answers import problems  # noqa: E402

ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')


def main() -> int:
    found = problems(ANSWERS)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"{len(found)} invalid answer(s); nothing was generated.", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
