"""Docs name only what exists: every repo path, make target and upper-case variable a Markdown file
puts in backticks is checked against the checkout (the generated repo's docs against the template
directory, plus the few files a bake creates)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePath

import pytest
import yaml

from tooling import ROOT

GENERATED = "{{cookiecutter.repo}}"
# What a bake or `make demo` writes: named in the docs, absent from a checkout.
CREATED_LATER = (".sops.yaml", "age.agekey", ".cruft.json", "kubernetes/rendered", ".venv")
# Vendored upstream schema notes cite upstream repos' paths, not ours.
NOT_OURS = ("/schemas/",)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
PATH_LIKE = re.compile(r"[\w.{}\-/]+")
FILE_SUFFIX = re.compile(r"\.(py|md|ya?ml|json|toml|txt|sh)$")
VARIABLE = re.compile(r"[A-Z][A-Z0-9_]{3,}")
MAKE_CALL = re.compile(r"^make ([a-z][\w-]*)(?:\s|$)")


def tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


FILES = tracked()
DOCS = [f for f in FILES if f.endswith(".md") and not any(part in f for part in NOT_OURS)]
NAMES = {PurePath(f).name for f in FILES} | {str(d) for f in FILES for d in PurePath(f).parents}
# First path segments that mean "a path in this repo" (the checkout's and the generated repo's).
TOPS = {PurePath(f).parts[0] for f in FILES} | {
    PurePath(f).parts[1] for f in FILES if f.startswith(GENERATED + "/") and len(PurePath(f).parts) > 2
}
# Where a variable must occur to exist: code and build files, not the docs, test data or this test (whose
# own sample of a stale variable would otherwise count as its definition).
CODE = "\n".join(
    (ROOT / f).read_text(errors="ignore") for f in FILES if not f.endswith(".md") and "testdata" not in f and ROOT / f != Path(__file__)
)


def make_targets(makefile: Path) -> set[str]:
    rule = re.compile(r"^([a-z][\w -]*?):(?!=)", re.M)
    return {name for match in rule.finditer(makefile.read_text()) for name in match.group(1).split()}


TARGETS = {"root": make_targets(ROOT / "Makefile"), "generated": make_targets(ROOT / GENERATED / "Makefile")}


def stale_pointers(doc: str, text: str) -> list[str]:
    """Every backticked path, variable or make target in one doc's text that names nothing in the repo."""
    where = "generated" if doc.startswith(GENERATED + "/") else "root"
    found = []
    for span in CODE_SPAN.findall(text):
        token = span.strip()
        call = MAKE_CALL.match(token)
        if call:
            # A make command in a doc must name a target of the Makefile it runs against.
            if call.group(1) not in TARGETS[where] | (TARGETS["generated"] if where == "root" else set()):
                found.append(f"make target {call.group(1)}")
            continue
        if VARIABLE.fullmatch(token):
            if token not in CODE:
                found.append(f"variable {token}")
            continue
        if not PATH_LIKE.fullmatch(token) or ("{{" in token and not token.startswith(GENERATED)):
            continue
        path = token.rstrip("/")
        if "/" in path:
            if path.split("/")[0] not in TOPS:
                continue  # an annotation, an API group, an upstream path
            exists = any((ROOT / base / path).exists() for base in (".", GENERATED, "kfn"))
        elif FILE_SUFFIX.search(path):
            exists = path in NAMES
        else:
            continue
        if not exists and not path.startswith(CREATED_LATER):
            found.append(f"path {token}")
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_docs_name_only_what_exists(doc: str) -> None:
    assert stale_pointers(doc, (ROOT / doc).read_text()) == []


def test_a_stale_pointer_is_caught() -> None:
    """The check itself finds a removed variable, path and make target (it cannot pass by finding nothing)."""
    text = "`OVERLAY_LAYERS_GONE` `hooks/gone.py` `make no-such-target` `make validate` `hooks/bake.py`"
    assert stale_pointers("docs/template.md", text) == [
        "variable OVERLAY_LAYERS_GONE",
        "path hooks/gone.py",
        "make target no-such-target",
    ]


# kfn's examples show our stack: an image whose repository the catalog deploys carries one of the catalog's tags.
CATALOG_IMAGES = {
    image["image"]
    for service in yaml.safe_load((ROOT / GENERATED / "catalog" / "services.yaml").read_text())["services"].values()
    for image in service["images"].values()
}
IMAGE_LINE = re.compile(r"^\s*image: ([^\s#]+)", re.M)
KFN_EXAMPLES = ["kfn/README.md", *(f for f in FILES if f.startswith("kfn/examples/"))]


def drifted_images(text: str) -> list[str]:
    repositories = {image.rsplit(":", 1)[0] for image in CATALOG_IMAGES}
    return [ref for ref in IMAGE_LINE.findall(text) if ref.rsplit(":", 1)[0] in repositories and ref not in CATALOG_IMAGES]


@pytest.mark.parametrize("example", KFN_EXAMPLES)
def test_kfn_examples_use_the_catalog_images(example: str) -> None:
    assert drifted_images((ROOT / example).read_text()) == [], f"{example}: set the image from {GENERATED}/catalog/services.yaml"


def test_a_drifted_example_image_is_caught() -> None:
    text = "        image: ollama/ollama:0.1.0\n        image: example/app:1.0\n        image: ollama/ollama:0.33.0-rocm\n"
    assert "ollama/ollama:0.33.0-rocm" in CATALOG_IMAGES
    assert drifted_images(text) == ["ollama/ollama:0.1.0"]
