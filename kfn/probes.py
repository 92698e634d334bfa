"""Probe profiles (data) and the edit that adds missing probes to a workload.

Model loading belongs in the startupProbe budget (failureThreshold x
periodSeconds): liveness and readiness only start once the startup probe has
passed, so they can stay tight, and no profile uses initialDelaySeconds.
Profiles come from the functionConfig (``spec.probes``); the built-ins kfn 0.1
shipped are in ``kfn.deprecated`` for one more release.
"""

from __future__ import annotations

import re
from collections import namedtuple

from kfn import selectors

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from kfn.config import Config
    from kfn.draft import Draft

PROBE_FIELDS = ("startupProbe", "livenessProbe", "readinessProbe")
PROBE_KINDS = ("startup", "liveness", "readiness")


class ProbeSpec(namedtuple("ProbeSpec", "path period_seconds timeout_seconds failure_threshold", defaults=("/", 10, 5, 3))):
    """One probe: ``path`` (str), then ``period_seconds``, ``timeout_seconds``, ``failure_threshold`` (int)."""

    __slots__ = ()


class ProbeProfile(
    namedtuple(
        "ProbeProfile",
        "port protocol startup liveness readiness",
        defaults=("http", ProbeSpec(failure_threshold=30), ProbeSpec(), ProbeSpec()),
    )
):
    """A server's probes: ``port`` (int), ``protocol`` (``http`` | ``tcp``), one ``ProbeSpec`` per probe kind."""

    __slots__ = ()

    def startup_budget_seconds(self) -> int:
        return self.startup.failure_threshold * self.startup.period_seconds


def http_profile(port: int, startup: str, liveness: str, readiness: str, budget_minutes: int) -> ProbeProfile:
    """An HTTP profile whose startup probe allows ``budget_minutes`` of loading at 10 s periods."""
    return ProbeProfile(
        port=port,
        startup=ProbeSpec(path=startup, failure_threshold=budget_minutes * 6),
        liveness=ProbeSpec(path=liveness),
        readiness=ProbeSpec(path=readiness),
    )


_GENERIC = re.compile(r"(?:(http):([0-9]{1,5})(/\S*)?|(tcp):([0-9]{1,5}))\Z")


def resolve(marker: str, profiles: Mapping[str, ProbeProfile]) -> ProbeProfile:
    """The profile a marker value names; ValueError says why a value is not one."""
    if marker in profiles:
        return profiles[marker]
    generic = _GENERIC.match(marker)
    if generic is None:
        known = ", ".join(sorted(profiles))
        raise ValueError(f'"{marker}" is not a profile ({known}) nor http:<port><path> or tcp:<port>')
    port = int(generic.group(2) or generic.group(5))
    if not 1 <= port <= 65535:
        raise ValueError(f'"{marker}": port {port} is not in 1..65535')
    if generic.group(4):
        return ProbeProfile(port=port, protocol="tcp")
    path = generic.group(3) or "/"
    defaults = ProbeProfile(port=port)
    return defaults._replace(**{kind: getattr(defaults, kind)._replace(path=path) for kind in PROBE_KINDS})


def k8s_probe(profile: ProbeProfile, spec: ProbeSpec) -> dict[str, Any]:
    """The probe as Kubernetes writes it: the action (httpGet or tcpSocket) first, then the timing."""
    if profile.protocol == "tcp":
        action, how = "tcpSocket", {"port": profile.port}
    else:
        action, how = "httpGet", {"path": spec.path, "port": profile.port}
    return {action: how, "periodSeconds": spec.period_seconds, "timeoutSeconds": spec.timeout_seconds, "failureThreshold": spec.failure_threshold}


def add_probes(draft: Draft, config: Config) -> None:
    """Give the target container each probe it lacks; explicit probes are never touched."""
    item = draft.root
    value = selectors.marker(item, selectors.MARKER_PROBES)
    if value is None:  # most items: no lookups past the marker
        return
    spec = selectors.pod_spec(item)
    target = selectors.target_container(item, spec)
    if target is None or spec is None:  # spec is None: not a workload
        return
    try:
        profile = resolve(value, config.probes)
    except ValueError:
        return  # reported by checks.unknown_markers
    missing = [(field, kind) for field, kind in zip(PROBE_FIELDS, PROBE_KINDS) if field not in target[1]]
    if missing:
        container = draft.own(*selectors.pod_spec_path(item), "containers", target[0])
        for field, kind in missing:
            container[field] = k8s_probe(profile, getattr(profile, kind))
