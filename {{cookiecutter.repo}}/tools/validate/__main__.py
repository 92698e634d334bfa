"""python -m tools.validate [--repo DIR] [--kubernetes-version X] [--age-key FILE] [--stage NAME]..."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.manifests import AGE_KEY
from tools.validate.run import STAGES, validate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.validate", description="Check offline that what Flux applies from this repo is right.")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the generated repo (default: the current directory)")
    parser.add_argument("--kubernetes-version", help="Kubernetes minor version to validate every cluster against (default: each cluster's kubernetes_version answer)")
    parser.add_argument("--age-key", type=Path, help=f"age identity, relative to the repo, every applied Secret must decrypt with (default: any of {AGE_KEY} and clusters/<name>/age.agekey present)")
    parser.add_argument("--stage", action="append", choices=STAGES, help="run only this stage (repeatable; default: all, in order)")
    args = parser.parse_args(argv)
    if not (args.repo / "clusters").is_dir() and not (args.repo / "kubernetes").is_dir():
        print(f"validate: --repo {args.repo}: no clusters/ or kubernetes/ directory, not a generated repo", file=sys.stderr)
        return 2
    stages = [s for s in STAGES if s in (args.stage or STAGES)]
    return validate(args.repo, args.kubernetes_version, stages, args.age_key)


if __name__ == "__main__":
    sys.exit(main())
