"""Which questions an interactive `cookiecutter` asks: the answers cookiecutter.json lists in `_not_asked`
keep their defaults unless the user names them.

cookiecutter (2.7) asks every key of cookiecutter.json that does not start with `_`, and has no
conditional or optional question (prompt.prompt_for_config). pre_prompt.py runs on cookiecutter's
temporary copy of the template before cookiecutter reads cookiecutter.json (main.cookiecutter:
run_pre_prompt_hook, then generate_context), so renaming a key there to `__key` takes its question away
for this one bake: cookiecutter renders a `__` key's default without asking. The generated repo's
`tools/answers.public_answers` gives it its own name back for the hooks, .cruft.json and cluster.yaml.

Nothing given may be lost on the way: cookiecutter drops a value for a key its cookiecutter.json lacks
without a word (generate.apply_overwrites_to_context). So a key stays a question when this bake gives it
a value (a `key=value` argument, the user config's `default_context`), a replay file decides its key
names itself, and nothing is renamed unless the parent process is cookiecutter's own command line
without `--no-input`. Every other caller (cruft, pytest-cookies, a Python program, `--no-input`) sees
cookiecutter.json as written, with every key under its own name.

It runs in cookiecutter's interpreter: the standard library, and the template's tools/answers.py for
the names (`_not_asked`, the `__` prefix) both sides of the renaming read.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.answers import UNASKED_PREFIX, not_asked  # the template's {{cookiecutter.repo}}/tools (pre_prompt.py)

PROGRAM_NAMES = ("cookiecutter", "cookiecutter.exe")
# cookiecutter's options that take a value (cli.py, 2.7.1): their value is not a `key=value` argument.
OPTIONS_WITH_VALUE = ("-c", "--checkout", "--directory", "-o", "--output-dir", "--config-file", "--replay-file",
                      "--debug-file", "--accept-hooks")


@dataclass(frozen=True)
class Command:
    """What a cookiecutter command line says that decides which questions it may skip."""

    no_input: bool = False
    replay: bool = False
    replay_file: str | None = None
    config_file: str | None = None
    default_config: bool = False
    named: frozenset[str] = field(default_factory=frozenset)


def cookiecutter_arguments(argv: Sequence[str]) -> list[str] | None:
    """The arguments after cookiecutter's program in a process's argv (`cookiecutter ...`: a console
    script runs as [python, .../bin/cookiecutter, ...]; `python -m cookiecutter ...`); None for any other
    program: then this is not cookiecutter's command line and nothing is renamed."""
    for index, word in enumerate(argv[:3]):
        if Path(word).name in PROGRAM_NAMES:
            return list(argv[index + 1:])
    return None


def parse(arguments: Sequence[str]) -> Command:
    """cookiecutter's command line, as much of it as matters here. An option this does not know is
    passed over; a word it takes for `key=value` by mistake only keeps one more question."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    named: set[str] = set()
    template_seen = False
    words = iter(arguments)
    for word in words:
        name, equals, value = word.partition("=")
        if word.startswith("-") and name in OPTIONS_WITH_VALUE:
            values[name] = value if equals else next(words, "")
        elif word.startswith("-"):
            flags.add(word)
        elif not template_seen:
            template_seen = True
        else:
            named.add(name)
    return Command(no_input="--no-input" in flags, replay="--replay" in flags, replay_file=values.get("--replay-file"),
                   config_file=values.get("--config-file"), default_config="--default-config" in flags,
                   named=frozenset(named))


def to_hide(questions: Mapping, command: Command | None, default_context: Mapping, replay: Mapping | None) -> list[str]:
    """The `_not_asked` answers this bake asks nothing about."""
    listed = [k for k in not_asked(questions) if k in questions]
    if command is None or command.no_input or command.replay:
        return []
    if command.replay_file is not None:
        # A replay answers every key it holds; a key it lacks is asked (main.cookiecutter). One from an
        # interactive bake holds the unasked answers as `__key`: those stay unasked.
        return [k for k in listed if UNASKED_PREFIX + k in (replay or {})]
    return [k for k in listed if k not in command.named and k not in default_context]


def hide(questions: Mapping, keys: Sequence[str]) -> dict:
    """cookiecutter.json with each of `keys` renamed `__key`, in its place (a later default may use it)."""
    return {UNASKED_PREFIX + k if k in keys else k: v for k, v in questions.items()}


def parent_argv() -> list[str] | None:
    """The command line of the process that runs this hook (cookiecutter runs hooks as its children)."""
    parent = os.getppid()
    proc = Path(f"/proc/{parent}/cmdline")
    try:
        if proc.is_file():
            return proc.read_bytes().decode(errors="replace").rstrip("\0").split("\0")
        ps = subprocess.run(["ps", "-o", "args=", "-p", str(parent)], capture_output=True, text=True, timeout=5)
        return ps.stdout.split() if ps.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def user_default_context(command: Command) -> Mapping:
    """The user config's default_context, as cookiecutter reads it for this command line."""
    try:
        from cookiecutter.config import get_user_config

        context = get_user_config(config_file=command.config_file, default_config=command.default_config).get("default_context")
    except Exception:  # cookiecutter itself reports a bad config file, after this hook
        return {}
    return context if isinstance(context, Mapping) else {}


def read_json(path: str | None) -> Mapping | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8")) if path else None
    except (OSError, ValueError):
        return None
    return data.get("cookiecutter") if isinstance(data, dict) and isinstance(data.get("cookiecutter"), dict) else None


def ask_fewer(template: Path) -> list[str]:
    """Rename the answers this bake does not ask in the template copy's cookiecutter.json and say so
    before the first question (a replay asks none); the renamed keys."""
    arguments = cookiecutter_arguments(parent_argv() or [])
    if arguments is None:
        return []
    command = parse(arguments)
    path = template / "cookiecutter.json"
    questions = json.loads(path.read_text(encoding="utf-8"))
    hidden = to_hide(questions, command, user_default_context(command), read_json(command.replay_file))
    if hidden:
        path.write_text(json.dumps(hide(questions, hidden), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if command.replay_file is None:
            print(announcement(questions, hidden), flush=True)
    return hidden


def announcement(questions: Mapping, hidden: Sequence[str]) -> str:
    asked = len([k for k in questions if not k.startswith("_") and k not in hidden])
    return (
        f"ai-gitops asks {asked} questions. These {len(hidden)} keep their defaults unless you name them on the "
        "command line (key=value: then they are asked too), or change them after the bake in "
        "clusters/<cluster_name>/cluster.yaml and run `make render`:\n  " + ", ".join(hidden) + "\n"
    )
