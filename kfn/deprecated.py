"""Defaults kfn 0.2.0 deprecates: still applied for one release, with a warning result where one is used.

The compatibility policy (kfn/README.md, "Compatibility") keeps a deprecated form working for at least
one release; each one here goes in ``REMOVED_IN``. A run that takes none of them gets no warning.
"""

from __future__ import annotations

from kfn.probes import ProbeProfile, ProbeSpec, http_profile

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Mapping

REMOVED_IN = "0.3.0"

# The built-in probe profiles as kfn 0.1 shipped them, frozen: profiles now come from spec.probes, which
# the generated repo renders from its service catalog ({{cookiecutter.repo}}/catalog/services.yaml,
# where each port's and route's upstream source is recorded). A marker naming one of these that the
# functionConfig does not define still gets it, with a warning.
PROFILES: Mapping[str, ProbeProfile] = {
    "ollama": http_profile(11434, "/api/version", "/", "/api/version", 5),
    "open-webui": http_profile(8080, "/health", "/health", "/health/db", 10),
    # whisper-asr-webservice (onerahmet/openai-whisper-asr-webservice): no /health, /docs answers; the
    # model loads before the port opens. Renamed faster-whisper (speaches) in 0.2.0: see OLD_NAMES.
    "whisper": http_profile(9000, "/docs", "/docs", "/docs", 15),
    "faster-whisper": http_profile(8000, "/health", "/health", "/health", 5),
    # HTTP /internal/ping (AUTOMATIC1111) in kfn 0.1; TCP since SD.Next answers /sdapi only with its login.
    "stable-diffusion": ProbeProfile(port=7860, protocol="tcp", startup=ProbeSpec(failure_threshold=20 * 6)),
    "qdrant": http_profile(6333, "/livez", "/livez", "/readyz", 5),
    "litellm": http_profile(4000, "/health/liveliness", "/health/liveliness", "/health/readiness", 5),
    "gatus": http_profile(8080, "/health", "/health", "/health", 1),
}

# Profile names that changed, with what replaces them (the warning names it).
OLD_NAMES = {"whisper": ("faster-whisper", "speaches: port 8000, /health, 5 min; whisper was whisper-asr-webservice: 9000, /docs, 15 min")}

# The backup tier of each data class when spec.backup.tiers does not name it (kfn 0.1).
TIERS: Mapping[str, str] = {"models": "GFS", "data": "GFS", "cache": "Daily"}

# The node selector kfn 0.1 added when spec.gpu.nodeSelector is unset. Both labels are optional add-ons:
# nvidia.com/gpu.present is set only by the GPU Operator (from NFD's PCI labels; sources in kfn/README.md), and
# intel.feature.node.kubernetes.io/gpu only by Node Feature Discovery with Intel's rules; without them the
# pod stays Pending. The vendor's resource request alone places the pod. (AMD's went in 0.2.0 at once.)
NODE_SELECTORS: Mapping[str, Mapping[str, str]] = {
    "nvidia": {"nvidia.com/gpu.present": "true"},
    "intel": {"intel.feature.node.kubernetes.io/gpu": "true"},
}


def profile_message(name: str) -> str:
    """The warning for a probes marker that names a built-in profile spec.probes does not define."""
    gone = f"deprecated in kfn 0.2.0 and gone in {REMOVED_IN}"
    if name in OLD_NAMES:
        new, why = OLD_NAMES[name]
        return f'probe profile "{name}" is renamed "{new}" ({why}); "{name}" is {gone}: use "{new}", or define "{name}" under spec.probes'
    return f'probe profile "{name}" is a built-in, {gone}: define it under spec.probes (the generated repo renders every profile from catalog/services.yaml)'


def override_message(name: str) -> str:
    """The warning for a spec.probes entry that fills gaps from a built-in profile."""
    renamed = f' ("{name}" is renamed "{OLD_NAMES[name][0]}")' if name in OLD_NAMES else ""
    return (
        f'takes what it does not set from the built-in profile "{name}"{renamed}, deprecated in kfn 0.2.0 and gone in '
        f"{REMOVED_IN}: give the whole profile (port, protocol and the startup, liveness and readiness paths and thresholds)"
    )


def tier_message(data_class: str, tier: str) -> str:
    return (
        f'data class "{data_class}" has no tier in spec.backup.tiers, so the built-in default {tier} applies; the default is '
        f"deprecated in kfn 0.2.0 and gone in {REMOVED_IN} (claims of a class without a tier stay unlabelled): set spec.backup.tiers.{data_class}"
    )


def node_selector_message(vendor: str, resource: str, selector: Mapping[str, str]) -> str:
    labels = ", ".join(f'{key}: "{value}"' for key, value in selector.items())
    return (
        f"spec.gpu.nodeSelector is unset, so the {vendor} default {labels} is added: a label only an optional add-on sets "
        f"(pods stay Pending without it). This default is deprecated in kfn 0.2.0 and gone in {REMOVED_IN}, when an unset "
        f"nodeSelector adds none: set spec.gpu.nodeSelector to {{}} (the {resource} request alone places the pod) or to the labels your GPU nodes carry"
    )
