"""``kfn``: pick the protocol from stdin (rule 1), run it, write stdout once at the end."""

from __future__ import annotations

import os
import sys

HELP = """\
usage: kfn [CONFIG_FILE] < input > output
       kfn --help | --version

kfn injects GPU limits/selectors/tolerations, backup-tier labels and
model-loading-aware probes into Kubernetes resources, and reports known
anti-patterns (config kind AIPatches, apiVersion kfn.ai-gitops.dev/v1alpha1).

Modes, chosen from stdin:
  KRM function    stdin is one ResourceList (kpt fn eval/render, kustomize
                  --enable-exec); the config is its functionConfig.
  legacy plugin   stdin is a multi-document stream and CONFIG_FILE names the
                  AIPatches file (kustomize --enable-alpha-plugins).

Exit status: 0 ok; 1 an error result (the output is still written; in
KRM mode also an unusable functionConfig); 2 unusable input, or an unusable
config file in legacy mode (one line on stderr, nothing on stdout).
Environment: KFN_YAML=yaml-rs (default) or pyyaml selects the parser.
Reference: kfn/README.md.
"""


def _run(args: list[str], text: str) -> tuple[str, list[str], int]:
    from kfn import wire
    from kfn.errors import InputError

    if wire.looks_like_resource_list(text):
        from kfn import krm

        out, code = krm.run(text)
        return out, [], code
    if args:
        from kfn import legacy

        return legacy.run(text, args[0])
    raise InputError("stdin: not a ResourceList, and no config file argument for legacy plugin mode (see kfn --help)")


def one_line(message: str, limit: int = 400) -> str:
    """A message as one stderr line: whitespace runs (a YAML excerpt's newlines) collapsed, length capped."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["-h"], ["--help"]):
        sys.stdout.write(HELP)
        return 0
    if args[:1] == ["--version"]:
        from kfn import __version__

        sys.stdout.write(f"kfn {__version__}\n")
        return 0
    import gc

    from kfn.errors import KfnError

    # A short run that builds millions of acyclic objects: the cycle collector only costs time.
    gc.disable()
    try:
        text = sys.stdin.buffer.read().decode("utf-8")
        out, notes, code = _run(args, text)
    except (KfnError, UnicodeDecodeError) as err:
        sys.stderr.write(f"kfn: {one_line(str(err))}\n")
        return 2
    except ImportError as err:
        sys.stderr.write(f"kfn: needs PyYAML (and optionally yaml-rs) for this python3: {err}\n")
        return 2
    if notes:
        sys.stderr.write("".join(line + "\n" for line in notes))
    sys.stdout.buffer.write(out.encode("utf-8"))
    sys.stdout.flush()
    return code


def run_and_exit() -> None:
    """``main()`` as the whole process: flush, then leave without interpreter teardown.

    Freeing every parsed item and module at exit costs a short run several ms
    (about 20 ms at 10 000 edited items), and nothing kfn holds needs finalising
    once stdout and stderr are flushed. The ``kfn`` command, the plugin and
    ``python -m kfn.cli`` (the container) all start here.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
