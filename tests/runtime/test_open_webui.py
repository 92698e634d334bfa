"""Open WebUI, as installed at the catalog's version, on the env of the rendered Deployment."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.runtime, pytest.mark.usefixtures("loopback_only")]


def test_probe_routes_answer_as_the_rendered_probes_expect(stack):
    from pods import http_status
    for kind in ("startup", "liveness", "readiness"):
        assert http_status(stack.webui.probe_url(kind)) == 200, kind
