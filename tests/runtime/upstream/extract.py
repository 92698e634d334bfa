"""Write the settings lists of this directory from the upstream sources at a git tag.

The images that are not on the package index (speaches, Qdrant, Gatus, Ollama, SD.Next) cannot run here,
so their settings are read from their source: every environment variable and command-line flag the
version reads, taken from the files that define them, with the tag and the commit. The paths an image
uses are few and need judgement: they are written by hand in each list (`paths`), each with its source,
and this script keeps them when it rewrites a list.

    python tests/runtime/upstream/extract.py IMAGE GIT_DIR REF [VERSION]

GIT_DIR is a clone of the upstream repository (`git clone --mirror`), REF the tag to read, VERSION the
image tag it describes (default: REF). Example: extract.py qdrant ~/src/qdrant.git v1.19.0
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

HERE = Path(__file__).parent


def show(git_dir: str, ref: str, path: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"{ref}:{path}"], capture_output=True, text=True, check=True).stdout


def files(git_dir: str, ref: str, pattern: str) -> list[str]:
    listed = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", ref], capture_output=True, text=True, check=True).stdout
    return [p for p in listed.splitlines() if re.fullmatch(pattern, p)]


def found(git_dir: str, ref: str, paths: list[str], pattern: str) -> dict[str, str]:
    """Every match of ``pattern``'s group 1 in ``paths``, with the first file that has it."""
    out: dict[str, str] = {}
    for path in paths:
        for name in re.findall(pattern, show(git_dir, ref, path)):
            out.setdefault(name, path)
    return out


def ollama(git_dir: str, ref: str) -> tuple[dict, dict]:
    """envconfig/config.go reads every OLLAMA_* variable and the GPU runtimes' ones it passes on (its AsMap
    lists both: `ret["HSA_OVERRIDE_GFX_VERSION"]`, ...)."""
    env = found(git_dir, ref, ["envconfig/config.go"], r'"(OLLAMA_[A-Z0-9_]+)"')
    env.update({k: v for k, v in found(git_dir, ref, ["envconfig/config.go"], r'ret\["([A-Z][A-Z0-9_]+)"\]').items() if k not in env})
    return env, {}


def gatus(git_dir: str, ref: str) -> tuple[dict, dict]:
    """os.Getenv calls and the *EnvVar constants of main.go; the Dockerfile's ENV defaults."""
    env = found(git_dir, ref, [p for p in files(git_dir, ref, r"[^/]+(/[^/]+)*\.go") if not p.endswith("_test.go")], r'Getenv\("([A-Z][A-Z0-9_]+)"\)')
    env.update({k: v for k, v in found(git_dir, ref, ["main.go"], r'EnvVar\s*=\s*"([A-Z][A-Z0-9_]+)"').items() if k not in env})
    env.update({k: v for k, v in found(git_dir, ref, ["Dockerfile"], r"(?m)^ENV ([A-Z][A-Z0-9_]+)=").items() if k not in env})
    return env, {}


def config_yaml_keys(text: str) -> list[list[str]]:
    """Key paths of a YAML file whose options are partly commented out (`# api_key: ...`)."""
    out, stack = [], []
    for line in text.splitlines():
        match = re.match(r"^( *)(?:#( *))?([a-z][a-z0-9_]*):(?:\s|$)", line)
        if not match:
            continue
        indent = len(match.group(1)) + max(0, len(match.group(2) or "") - 1)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group(3)))
        out.append([key for _, key in stack])
    return out


def qdrant(git_dir: str, ref: str) -> tuple[dict, dict]:
    """src/settings.rs merges Environment::with_prefix("QDRANT").separator("__") over config/config.yaml,
    which lists every option (the optional ones commented out)."""
    assert 'Environment::with_prefix("QDRANT").separator("__")' in show(git_dir, ref, "src/settings.rs")
    keys = config_yaml_keys(show(git_dir, ref, "config/config.yaml"))
    return {"QDRANT__" + "__".join(k.upper() for k in path): "config/config.yaml" for path in keys}, {}


def speaches(git_dir: str, ref: str) -> tuple[dict, dict]:
    """pydantic-settings Config of src/speaches/config.py (env_nested_delimiter "__", aliases win)."""
    path = "src/speaches/config.py"
    # `type X = ...` aliases are Python 3.12 syntax (read as plain assignments); they declare no setting.
    tree = ast.parse(re.sub(r"(?m)^type (\w+) =", r"\1 =", show(git_dir, ref, path)))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def fields(cls: ast.ClassDef) -> list[tuple[str, str | None, ast.expr]]:
        out = []
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and not stmt.target.id.startswith("_"):
                alias = None
                if isinstance(stmt.value, ast.Call):
                    alias = next((k.value.value for k in stmt.value.keywords if k.arg == "alias" and isinstance(k.value, ast.Constant)), None)
                out.append((stmt.target.id, alias, stmt.annotation))
        return out

    env = {}
    for name, alias, annotation in fields(classes["Config"]):
        if name == "model_config":
            continue
        env[alias or name.upper()] = path
        nested = annotation.id if isinstance(annotation, ast.Name) else None
        if nested in classes:
            env.update({f"{name.upper()}__{sub.upper()}": path for sub, _, _ in fields(classes[nested])})
    return env, {}


def sdnext(git_dir: str, ref: str) -> tuple[dict, dict]:
    """argparse flags and SD_* variables of launch.py, installer.py and modules/."""
    sources = ["launch.py", "installer.py", *files(git_dir, ref, r"modules/[^/]+\.py")]
    flags = found(git_dir, ref, sources, r"""add_argument\(\s*['"](--[a-z0-9][a-z0-9-]*)['"]""")
    env = found(git_dir, ref, sources, r"""(?:environ\.get|getenv|env_flag)\(\s*['"](SD_[A-Z0-9_]+)['"]""")
    env.update({k: v for k, v in found(git_dir, ref, ["configs/Dockerfile.cuda"], r"(?m)^ENV ([A-Z][A-Z0-9_]+)=").items() if k not in env})
    return env, flags


EXTRACTORS: dict[str, Callable[[str, str], tuple[dict, dict]]] = {
    "ollama": ollama, "gatus": gatus, "qdrant": qdrant, "speaches": speaches, "sdnext": sdnext,
}


def main(image: str, git_dir: str, ref: str, version: str | None = None) -> None:
    target = HERE / f"{image}.yaml"
    old = yaml.safe_load(target.read_text()) if target.exists() else {}
    env, flags = EXTRACTORS[image](git_dir, ref)
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", f"{ref}^{{commit}}"], capture_output=True, text=True, check=True).stdout.strip()
    listed = {
        "image": old.get("image", ""),
        "repository": old.get("repository", ""),
        "version": version or ref,
        "read_at": {"ref": ref, "commit": commit},
        "note": old.get("note", ""),
        "env": dict(sorted(env.items())),
        "flags": dict(sorted(flags.items())),
        "paths": old.get("paths", {}),
    }
    header = "# Written by tests/runtime/upstream/extract.py (env, flags) and by hand (paths); see its docstring.\n"
    target.write_text(header + yaml.safe_dump(listed, sort_keys=False, width=120))


if __name__ == "__main__":
    main(*sys.argv[1:])
