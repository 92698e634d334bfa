"""The interactive path asks at most 20 questions (hooks/questions.py), and loses nothing on the way: every
other way of baking sees cookiecutter.json as written, a value the user gives keeps its question, and an
interactive bake's answers are the ones `--no-input` gives, under the same names.

The bake-tier side (the real `cookiecutter` command line, typed answers) is tests/template/test_front_door.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tooling import ROOT

PROJECT = ROOT / "{{cookiecutter.repo}}"
sys.path[:0] = [str(ROOT / "hooks"), str(ROOT), str(PROJECT)]

import questions  # noqa: E402  (hooks/questions.py)
from tools import answers as rules  # noqa: E402

COOKIECUTTER_JSON = json.loads((ROOT / "cookiecutter.json").read_text())
NOT_ASKED = COOKIECUTTER_JSON[rules.NOT_ASKED]
INTERACTIVE = questions.Command()


def asked(questions_: dict) -> list[str]:
    return [k for k in questions_ if not k.startswith("_")]


def test_the_default_interactive_path_asks_at_most_20_questions():
    hidden = questions.to_hide(COOKIECUTTER_JSON, INTERACTIVE, {}, None)
    assert hidden == NOT_ASKED
    assert len(asked(questions.hide(COOKIECUTTER_JSON, hidden))) <= 20


def test_every_unasked_answer_is_an_answer_with_a_default():
    assert len(set(NOT_ASKED)) == len(NOT_ASKED)
    assert set(NOT_ASKED) <= set(asked(COOKIECUTTER_JSON))
    assert all(not isinstance(COOKIECUTTER_JSON[k], bool) for k in NOT_ASKED), "a yes/no question is cheap to ask"


def test_no_asked_default_and_no_rendered_file_names_an_unasked_answer_by_its_own_name():
    """cookiecutter holds an unasked answer as `__key`: `cookiecutter.key` in an asked question's default or
    in a file cookiecutter renders would be undefined (StrictUndefined) on the interactive path only."""
    uses = re.compile(r"cookiecutter\.(\w+)")
    for key in asked(COOKIECUTTER_JSON):
        if key not in NOT_ASKED:
            assert not set(uses.findall(json.dumps(COOKIECUTTER_JSON[key]))) & set(NOT_ASKED), key
    copied = [p.rstrip("*/") for p in COOKIECUTTER_JSON["_copy_without_render"]]
    for path in [*PROJECT.rglob("*"), *(ROOT / "hooks").glob("*_project.py")]:
        relative = path.relative_to(PROJECT).as_posix() if path.is_relative_to(PROJECT) else path.name
        if path.is_file() and not any(relative == c or relative.startswith(c + "/") for c in copied):
            named = set(uses.findall(path.read_text(errors="replace"))) & set(NOT_ASKED)
            assert not named, f"{path.relative_to(ROOT)} names {sorted(named)}: use (cookiecutter | public_answers)"


@pytest.mark.parametrize("argv, arguments", [
    (["/usr/bin/python3", "/home/u/.local/bin/cookiecutter", "gh:org/ai-gitops"], ["gh:org/ai-gitops"]),
    (["/venv/bin/python", "-m", "cookiecutter", "--no-input", "."], ["--no-input", "."]),
    (["cookiecutter", "."], ["."]),
    (["/usr/bin/python3", "-m", "pytest", "tests"], None),
    (["/usr/bin/cruft", "create", "gh:org/ai-gitops"], None),
    ([], None),
])
def test_only_cookiecutters_own_command_line_counts(argv, arguments):
    assert questions.cookiecutter_arguments(argv) == arguments


@pytest.mark.parametrize("arguments, command", [
    (["gh:org/ai-gitops"], questions.Command()),
    (["--no-input", "gh:org/ai-gitops", "namespace=llm"], questions.Command(no_input=True, named=frozenset({"namespace"}))),
    (["-o", "out", "gh:org/ai-gitops", "kubernetes_version=1.31", "gpu_vendor=amd"],
     questions.Command(named=frozenset({"kubernetes_version", "gpu_vendor"}))),
    (["--output-dir=x=y", "--checkout", "v1", "t", "whisper_model=small"], questions.Command(named=frozenset({"whisper_model"}))),
    (["--replay-file", "r.json", "t"], questions.Command(replay_file="r.json")),
    (["--replay", "t"], questions.Command(replay=True)),
    (["--config-file", "c.yaml", "--default-config", "-f", "-v", "t"], questions.Command(config_file="c.yaml", default_config=True)),
    (["-oout", "t", "a=b=c"], questions.Command(named=frozenset({"a"}))),
    (["--output-dir"], questions.Command()),  # a dangling option's value: nothing to take
])
def test_the_command_line_is_read_as_cookiecutter_reads_it(arguments, command):
    assert questions.parse(arguments) == command


def test_nothing_is_hidden_without_cookiecutters_interactive_command_line():
    for command in (None, questions.Command(no_input=True), questions.Command(replay=True)):
        assert questions.to_hide(COOKIECUTTER_JSON, command, {}, None) == []


def test_a_value_the_user_gives_keeps_its_question():
    named = questions.Command(named=frozenset({"namespace", "whisper_model"}))
    hidden = questions.to_hide(COOKIECUTTER_JSON, named, {"csi_driver": "rbd.csi.ceph.com"}, None)
    assert set(NOT_ASKED) - set(hidden) == {"namespace", "whisper_model", "csi_driver"}


def test_a_replay_file_keeps_the_names_it_was_saved_with():
    saved = {"namespace": "ai", "__git_branch": "main"}
    assert questions.to_hide(COOKIECUTTER_JSON, questions.Command(replay_file="r.json"), {}, saved) == ["git_branch"]


def test_hide_renames_in_place():
    hidden = questions.hide({"a": 1, "b": [1, 2], "c": "{{ cookiecutter.a }}"}, ["a", "b"])
    assert list(hidden.items()) == [("__a", 1), ("__b", [1, 2]), ("c", "{{ cookiecutter.a }}")]


def test_the_user_config_default_context_is_read_as_cookiecutter_reads_it(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("default_context:\n  kubernetes_version: '1.31'\n")
    assert questions.user_default_context(questions.Command(config_file=str(config))) == {"kubernetes_version": "1.31"}
    assert questions.user_default_context(questions.Command(config_file=str(config), default_config=True)) == {}
    assert questions.user_default_context(questions.Command(config_file=str(tmp_path / "missing.yaml"))) == {}
    config.write_text("default_context: [kubernetes_version]\n")  # not a mapping: cookiecutter says so later
    assert questions.user_default_context(questions.Command(config_file=str(config))) == {}


def test_parent_argv_reads_the_parent_process_command_line():
    """What a hook reads is its parent's argv: here this test process's, as the kernel records it."""
    child = subprocess.run([sys.executable, "-c", f"import sys, json; sys.path[:0] = {[str(ROOT / 'hooks'), str(ROOT), str(PROJECT)]!r}; "
                            "import questions; print(json.dumps(questions.parent_argv()))"], capture_output=True, text=True, check=True)
    assert json.loads(child.stdout) == Path("/proc/self/cmdline").read_bytes().decode().rstrip("\0").split("\0")


def rendered(questions_: dict, overrides: dict, tmp_path: Path) -> dict:
    """cookiecutter's own rendering of a cookiecutter.json (no prompts), as the hooks see the answers."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    path = tmp_path / "cookiecutter.json"
    path.write_text(json.dumps(questions_))
    context = generate_context(context_file=str(path), extra_context=overrides)
    return rules.public_answers(prompt_for_config(context, no_input=True))


@pytest.mark.parametrize("overrides", [{}, {"lb_pool": "192.168.7.0/28", "storage_class": "ceph-block", "lb_provider": "metallb"}],
                         ids=["defaults", "derived"])
def test_an_interactive_bake_has_the_answers_no_input_gives(overrides, tmp_path):
    """The unasked answers' defaults (open_webui_ip from the pool, csi_driver from the StorageClass, the
    first choice of a list) come out of the renamed cookiecutter.json as `--no-input` renders them."""
    hidden = questions.hide(COOKIECUTTER_JSON, NOT_ASKED)
    interactive = rendered(hidden, overrides, tmp_path)
    no_input = rendered(COOKIECUTTER_JSON, overrides, tmp_path)
    assert interactive == no_input
    assert list(interactive) == list(no_input)  # and in cookiecutter.json's order


def test_choice_lists_read_an_unasked_choice_under_its_own_name():
    assert rules.choice_lists(questions.hide(COOKIECUTTER_JSON, NOT_ASKED)) == rules.choice_lists(COOKIECUTTER_JSON)
    assert "whisper_model" in rules.choice_lists(COOKIECUTTER_JSON)


def test_public_answers_prefers_the_own_name_and_leaves_private_keys():
    context = {"_not_asked": ["a", "whisper_model"], "__a": "x", "a": "given", "__whisper_model": ["small", "tiny"],
               "__c": "kept", "_t": 1}
    assert rules.public_answers(context) == {"_not_asked": ["a", "whisper_model"], "a": "given", "whisper_model": "small",
                                             "__c": "kept", "_t": 1}


def test_a_list_where_an_unasked_text_answer_belongs_is_refused_not_shortened():
    """Only a choice arrives as its list; a list a replay file gives a text answer is the user's mistake."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    context = dict(prompt_for_config(generate_context(context_file=str(ROOT / "cookiecutter.json")), no_input=True))
    context["__namespace"] = ["llm", "ai"]
    del context["namespace"]
    answers = rules.public_answers(context)
    assert answers["namespace"] == ["llm", "ai"]
    found = rules.problems(answers, rules.load_catalog(PROJECT / rules.CATALOG_FILE))
    assert [line for line in found if line.startswith("namespace: ")], found


def test_the_announcement_counts_what_is_asked_and_names_what_is_not():
    line = questions.announcement(COOKIECUTTER_JSON, NOT_ASKED)
    asked_now = len(asked(COOKIECUTTER_JSON)) - len(NOT_ASKED)
    assert line.startswith(f"ai-gitops asks {asked_now} questions. These {len(NOT_ASKED)} keep their defaults")
    assert line.splitlines()[1].strip() == ", ".join(NOT_ASKED)


def test_the_readme_counts_the_questions_as_cookiecutter_json_does():
    text = " ".join((ROOT / "README.md").read_text().split())
    every = len(asked(COOKIECUTTER_JSON))
    assert re.search(r"The interactive bake asks (\d+) questions", text).group(1) == str(every - len(NOT_ASKED))
    assert re.search(r"The (\d+) answers `cookiecutter.json` lists in `_not_asked`", text).group(1) == str(len(NOT_ASKED))
    assert re.search(r"see all (\d+) answers", text).group(1) == str(every)


@pytest.mark.parametrize("listed", [5, "namespace", None, {"a": 1}, [1, ["x"], None]])
def test_a_replay_files_not_asked_list_of_another_type_is_no_list(listed):
    """A replay file is the user's to edit: whatever `_not_asked` holds there, the answers keep their names."""
    context = {"_not_asked": listed, "__namespace": "x", "namespace": "ai"}
    assert rules.public_answers(context) == context
    assert questions.to_hide(context, INTERACTIVE, {}, None) == []
