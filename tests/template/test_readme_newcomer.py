"""The generated README answers a newcomer's first questions: how Flux gets push access, how to reach
a ClusterIP-only service, and what Open WebUI's admin panel does not keep."""

from __future__ import annotations

import re

import pytest

ACCESS_ROW = re.compile(r"^\| [^|]+ \| ClusterIP `([a-z0-9-]+)\.[a-z0-9-]+\.svc` \| (\d+) → ", re.M)


def readme(baked) -> str:
    return baked.readme


@pytest.mark.parametrize(
    ("git_url", "says", "never"),
    [
        ("ssh://git@example.com/team/ai.git", "--private-key-file=", "GIT_PASSWORD"),
        ("https://example.com/team/ai.git", "read -rs GIT_PASSWORD && export GIT_PASSWORD", "--password"),
    ],
)
def test_flux_bootstrap_names_the_credentials_the_url_needs(bakery, git_url, says, never):
    text = readme(bakery(f"bootstrap-{git_url.split(':')[0]}", git_url=git_url))
    bootstrap = text.split("## Bootstrap", 1)[1].split("\n## ", 1)[0]
    assert f"flux bootstrap git --url={git_url} " in bootstrap
    assert says in bootstrap and never not in bootstrap


def test_every_clusterip_service_has_its_port_forward(bakery):
    text = readme(bakery("extras", enable_qdrant="yes", enable_litellm="yes"))
    internal = ACCESS_ROW.findall(text)
    assert {name for name, _ in internal} >= {"ollama", "qdrant", "litellm"}
    for name, port in internal:
        assert f"`kubectl -n ai port-forward svc/{name} {port}`" in text


def test_admin_panel_settings_are_said_to_vanish_on_restart(default_bake):
    assert "Settings changed in its admin panel work until the pod restarts" in readme(default_bake)
