"""The images that cannot run here (not on the package index: speaches, Qdrant, Gatus, Ollama, SD.Next):
every environment variable, flag and path the rendered manifests give them is one their pinned version
reads, as listed from its source in tests/runtime/upstream/ (each list names the tag and the commit).

A name the image does not read is silently ignored at run time (speaches 0.8.3 ignored STT_MODEL_TTL and
unloaded the model after 300 s), so this is the check that catches it before a cluster does.
"""

from __future__ import annotations

import re

import pytest
import yaml

from template_repo import CASES, CATALOG, Baked
from tooling import ROOT

UPSTREAM = ROOT / "tests" / "runtime" / "upstream"
LISTS = {d["image"]: d for d in (yaml.safe_load(p.read_text()) for p in sorted(UPSTREAM.glob("*.yaml")))}
SHELLS = ("sh", "bash", "/bin/sh", "/bin/bash")
# Every vendor's images, all services on (the bakes test_services uses too).
BAKES = ["nvidia-cilium-all-generated", "amd-metallb-all-generated", "intel-cilium-all-given", "none-metallb-all-given"]


def split_image(reference: str) -> tuple[str, str]:
    """(repository, tag) of an image reference (a digest, if any, is dropped)."""
    name = reference.split("@", 1)[0]
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "latest")
    return repository, tag


def settings(container: dict) -> tuple[set[str], set[str], set[str]]:
    """(env names, flags, paths) a container gives its image; a shell script's words, and the variables
    it expands ($PULL_MODELS in the Ollama pull Job), are the script's own."""
    argv = [str(word) for word in [*container.get("command", []), *container.get("args", [])]]
    script_vars: set[str] = set()
    if argv[:1] and argv[0] in SHELLS:
        script_vars = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", " ".join(argv)))
        argv = []
    env = {e["name"] for e in container.get("env", [])} - script_vars
    flags = {word.split("=", 1)[0] for word in argv if word.startswith("--")}
    paths = {m["mountPath"] for m in container.get("volumeMounts", [])}
    paths |= {str(e["value"]) for e in container.get("env", []) if str(e.get("value", "")).startswith("/")}
    paths |= {word for word in argv if word.startswith("/")}
    return env, flags, paths


def test_every_list_describes_the_version_the_catalog_pins():
    pinned = {split_image(run["image"]) for service in CATALOG.values() for run in service["images"].values()}
    for image, listed in LISTS.items():
        tags = {tag for repository, tag in pinned if repository == image}
        assert tags, f"{image}: no catalog image uses it"
        for tag in tags:
            assert tag == listed["version"] or tag.startswith(f"{listed['version']}-"), f"{image}:{tag} but the list is for {listed['version']}"
        assert listed["read_at"]["ref"] and len(listed["read_at"]["commit"]) == 40, image
        assert listed["env"] or listed["flags"], image


@pytest.fixture(params=BAKES)
def baked(request, bakery) -> Baked:
    return bakery(request.param, **CASES[request.param])


def test_rendered_settings_are_ones_the_pinned_version_reads(baked):
    checked = set()
    for doc in baked.resources:
        pod = (doc.get("spec") or {}).get("template", {}).get("spec") or (doc.get("spec") or {}).get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
        for container in [*(pod or {}).get("initContainers", []), *(pod or {}).get("containers", [])]:
            image, _ = split_image(container["image"])
            if image not in LISTS:
                continue
            listed, where = LISTS[image], f"{doc['kind']}/{doc['metadata']['name']} ({container['image']})"
            env, flags, paths = settings(container)
            assert env <= set(listed["env"]), f"{where}: {sorted(env - set(listed['env']))} not read by {image} {listed['version']}"
            assert flags <= set(listed["flags"]), f"{where}: {sorted(flags - set(listed['flags']))} not flags of {image} {listed['version']}"
            assert paths <= set(listed["paths"]), f"{where}: {sorted(paths - set(listed['paths']))} not paths of {image} {listed['version']}"
            checked.add(image)
    assert checked, "no container uses an image with a settings list"
