"""kfn's built-in probe profiles are the template's service catalog's: one set of facts, checked here."""

from __future__ import annotations

from pathlib import Path

import yaml

from kfn.probes import BUILTIN_PROFILES, k8s_probe

CATALOG = Path(__file__).resolve().parents[2] / "{{cookiecutter.repo}}" / "catalog" / "services.yaml"


def catalog_probes(entry: dict) -> dict[str, dict]:
    """The three probes the catalog's profile gives, as Kubernetes writes them (periods and timeouts: kfn's)."""
    probes, port = entry["probes"], entry["port"]
    out = {}
    for kind in ("startup", "liveness", "readiness"):
        action = {"httpGet": {"path": probes[kind], "port": port}} if probes["protocol"] == "http" else {"tcpSocket": {"port": port}}
        threshold = probes["startup_minutes"] * 6 if kind == "startup" else 3
        out[kind] = {**action, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": threshold}
    return out


def test_builtin_profiles_are_the_catalogs():
    services = yaml.safe_load(CATALOG.read_text())["services"]
    assert set(BUILTIN_PROFILES) == set(services)
    for name, entry in services.items():
        profile = BUILTIN_PROFILES[name]
        builtin = {kind: k8s_probe(profile, getattr(profile, kind)) for kind in ("startup", "liveness", "readiness")}
        assert builtin == catalog_probes(entry), name
