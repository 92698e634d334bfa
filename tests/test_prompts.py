"""What the prompts promise matches what a bake does: each gpu_vendor choice's label says which of the GPU
services run on that vendor's GPU and which on the CPU, as the catalog decides (`images.<vendor>.backend`)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tooling import ROOT

COOKIECUTTER = json.loads((ROOT / "cookiecutter.json").read_text())
CATALOG = yaml.safe_load((ROOT / "{{cookiecutter.repo}}" / "catalog" / "services.yaml").read_text())["services"]
# A label's claims after its first ": ", `; `-separated: "<names> run(s) on the GPU|CPU[ (<why>)]".
CLAIM = re.compile(r"(?P<names>[^;:()]+?) runs? on the (?P<where>GPU|CPU)(?: \((?P<why>[^)]*)\))?(?:;|$)")


def short_name(service: dict) -> str:
    """A service as a label names it: its catalog title without the parenthesis, lower case."""
    return service["title"].split(" (")[0].lower()


def names(listed: str) -> set[str]:
    """'A, B and C' -> {'a', 'b', 'c'}"""
    return {name.strip().lower() for name in re.split(r", | and ", listed.strip())}


# The services that hold a GPU with at least one vendor; the rest run on the CPU everywhere and go unsaid.
GPU_SERVICES = {n: s for n, s in CATALOG.items() if any(image["backend"] != "cpu" for image in s["images"].values())}


@pytest.mark.parametrize("vendor", COOKIECUTTER["gpu_vendor"])
def test_gpu_vendor_label_names_where_each_gpu_service_runs(vendor):
    label = COOKIECUTTER["__prompts__"]["gpu_vendor"][vendor]
    claims = {"GPU": set(), "CPU": set()}
    backends = set()
    for claim in CLAIM.finditer(label.split(": ", 1)[1]):
        claims[claim["where"]] |= names(claim["names"])
        if claim["where"] == "GPU":
            backends.add((claim["why"] or "").lower())
    backend = {short_name(s): s["images"][vendor]["backend"] for s in GPU_SERVICES.values()}
    assert claims == {
        "GPU": {name for name, runs_on in backend.items() if runs_on != "cpu"},
        "CPU": {name for name, runs_on in backend.items() if runs_on == "cpu"},
    }, f"gpu_vendor {vendor}: the label {label!r} disagrees with catalog/services.yaml"
    assert backends <= {runs_on for runs_on in backend.values() if runs_on != "cpu"}, label


def test_every_gpu_service_has_a_name_the_labels_can_use():
    assert len({short_name(s) for s in GPU_SERVICES.values()}) == len(GPU_SERVICES) >= 3


def test_every_vendor_choice_has_an_image_per_service_and_kfn_knows_its_gpu():
    """One vendor list, cookiecutter.json's: the catalog has an image of every service for each choice,
    and kfn a GPU resource for each choice but `none`."""
    import sys

    sys.path.insert(0, str(ROOT))
    from kfn.api import GPU_VENDORS

    vendors = COOKIECUTTER["gpu_vendor"]
    assert {name: sorted(s["images"]) for name, s in CATALOG.items()} == {name: sorted(vendors) for name in CATALOG}
    assert sorted(GPU_VENDORS) == sorted(v for v in vendors if v != "none")
