"""The AIPatches configuration: parse and validate into a frozen value. Pure, no I/O.

Every error names the key and the value, e.g.
``spec.gpu.vendor: "nvidea" is not one of nvidia, amd, intel``.
"""

from __future__ import annotations

from collections import namedtuple
from types import MappingProxyType

from kfn.errors import ConfigError, type_name
from kfn.numbers import MAX_INT, whole_number
from kfn.probes import BUILTIN_PROFILES, ProbeProfile, ProbeSpec
from kfn.selectors import CONFIG_KIND, GROUP

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

API_VERSION = GROUP + "/v1alpha1"
DATA_CLASSES = ("models", "data", "cache")

# Vendor defaults; sources in kfn/README.md ("Vendor defaults").
VENDORS: Mapping[str, Mapping[str, Any]] = {
    "nvidia": {
        "resources": ("nvidia.com/gpu",),
        "nodeSelector": {"nvidia.com/gpu.present": "true"},
    },
    "amd": {
        "resources": ("amd.com/gpu",),
        # No label is published on every AMD GPU node: the AMD GPU Operator's NFD rule
        # (feature.node.kubernetes.io/amd-gpu) lists only some Instinct and Radeon models, and plain NFD
        # labels by PCI class. The amd.com/gpu request alone places the pod on a node that has one.
        "nodeSelector": {},
    },
    "intel": {
        "resources": ("gpu.intel.com/i915", "gpu.intel.com/xe"),
        "nodeSelector": {"intel.feature.node.kubernetes.io/gpu": "true"},
    },
}


def _vendor_toleration(resource: str) -> dict[str, str]:
    """Tolerate the taint GPU node pools commonly carry: the resource name, NoSchedule."""
    return {"key": resource, "operator": "Exists", "effect": "NoSchedule"}


# The values are collections.namedtuple classes (typing.NamedTuple would import typing).


class GpuConfig(
    namedtuple(
        "GpuConfig",
        "vendor resource node_selector tolerations runtime_class_name physical time_slicing_replicas",
        defaults=(
            "nvidia",
            "nvidia.com/gpu",
            MappingProxyType(dict(VENDORS["nvidia"]["nodeSelector"])),
            (MappingProxyType(_vendor_toleration("nvidia.com/gpu")),),
            "",
            0,
            1,
        ),
    )
):
    """``spec.gpu``: node_selector a read-only str->str mapping, tolerations a tuple of read-only mappings."""

    __slots__ = ()


class BackupConfig(
    namedtuple(
        "BackupConfig",
        "label tiers",
        defaults=("backup.velero.io/backup-tier", MappingProxyType({"models": "GFS", "data": "GFS", "cache": "Daily"})),
    )
):
    """``spec.backup``: the label key and a read-only data class -> tier mapping."""

    __slots__ = ()


class Config(namedtuple("Config", "gpu backup probes", defaults=(GpuConfig(), BackupConfig(), MappingProxyType(dict(BUILTIN_PROFILES))))):
    """The validated AIPatches spec: immutable, defaults as documented in kfn/README.md.

    ``gpu`` a GpuConfig, ``backup`` a BackupConfig, ``probes`` a read-only name -> ProbeProfile mapping.
    """

    __slots__ = ()


# --- validation helpers -------------------------------------------------------


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value) if not isinstance(value, (dict, list)) else type_name(value)


def _mapping(value: Any, key: str, allowed: tuple[str, ...] | None = None) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: {_show(value)} is not a mapping")
    if allowed is not None:
        for name in value:
            if name not in allowed:
                raise ConfigError(f"{key}.{name}: unknown key (allowed: {', '.join(allowed)})")
    return value


def _string(value: Any, key: str, *, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ConfigError(f"{key}: {_show(value)} is not a {'' if empty else 'non-empty '}string")
    return value.strip()


def _integer(value: Any, key: str, minimum: int, maximum: int = MAX_INT) -> int:
    if isinstance(value, str):  # ConfigMap data is always text
        number = whole_number(value.strip(), minimum, maximum)
        if number is None:
            raise ConfigError(f"{key}: {_show(value)} is not a whole number from {minimum} to {maximum}")
        return number
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{key}: {_show(value)} is not an integer")
    if value < minimum:
        raise ConfigError(f"{key}: {value} is below the minimum {minimum}")
    if value > maximum:
        raise ConfigError(f"{key}: {value} is above the maximum {maximum}")
    return int(value)


def _string_map(value: Any, key: str) -> Mapping[str, str]:
    found = _mapping(value, key)
    for name, text in found.items():
        if not isinstance(text, str):
            raise ConfigError(f'{key}."{name}": {_show(text)} is not a string (quote it)')
    return MappingProxyType(dict(found))


_TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")


def _tolerations(value: Any, key: str) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: {_show(value)} is not a list")
    out = []
    for i, entry in enumerate(value):
        entry = _mapping(entry, f"{key}[{i}]", _TOLERATION_KEYS)
        if entry.get("operator", "Equal") not in ("Equal", "Exists"):
            raise ConfigError(f'{key}[{i}].operator: {_show(entry.get("operator"))} is not one of Equal, Exists')
        out.append(MappingProxyType(dict(entry)))
    return tuple(out)


# --- sections -------------------------------------------------------------------

_GPU_KEYS = ("vendor", "resource", "nodeSelector", "tolerations", "runtimeClassName", "physical", "timeSlicingReplicas")


def _gpu(raw: Any, at: str) -> GpuConfig:
    gpu = _mapping(raw, at, _GPU_KEYS)
    vendor = _string(gpu.get("vendor", "nvidia"), f"{at}.vendor")
    if vendor not in VENDORS:
        raise ConfigError(f"{at}.vendor: {_show(vendor)} is not one of {', '.join(VENDORS)}")
    defaults = VENDORS[vendor]
    resource = _string(gpu.get("resource") or defaults["resources"][0], f"{at}.resource")
    if "/" not in resource:
        raise ConfigError(f"{at}.resource: {_show(resource)} is not a vendor-qualified resource name such as {defaults['resources'][0]}")
    if resource not in defaults["resources"]:
        choices = ", ".join(defaults["resources"])
        raise ConfigError(f"{at}.resource: {_show(resource)} does not belong to vendor {vendor} ({choices})")
    selector = gpu.get("nodeSelector")
    tolerations = gpu.get("tolerations")
    return GpuConfig(
        vendor=vendor,
        resource=resource,
        node_selector=_string_map(selector, f"{at}.nodeSelector") if selector else MappingProxyType(dict(defaults["nodeSelector"])),
        tolerations=_tolerations(tolerations, f"{at}.tolerations") if tolerations else (MappingProxyType(_vendor_toleration(resource)),),
        runtime_class_name=_string(gpu.get("runtimeClassName") or "", f"{at}.runtimeClassName"),
        physical=_integer(gpu.get("physical", 0), f"{at}.physical", 0, 1_000_000),
        time_slicing_replicas=_integer(gpu.get("timeSlicingReplicas", 1), f"{at}.timeSlicingReplicas", 1, 1024),
    )


def _backup(raw: Any, at: str) -> BackupConfig:
    backup = _mapping(raw, at, ("label", "tiers"))
    tiers = dict(BackupConfig().tiers)
    for name, tier in _mapping(backup.get("tiers"), f"{at}.tiers", DATA_CLASSES).items():
        tiers[name] = _string(tier, f"{at}.tiers.{name}", empty=False)
    label = _string(backup.get("label", BackupConfig().label), f"{at}.label", empty=False)
    return BackupConfig(label=label, tiers=MappingProxyType(tiers))


_PROFILE_KEYS = ("port", "protocol", *("startup", "liveness", "readiness"))
_SPEC_KEYS = {"path": "path", "periodSeconds": "period_seconds", "timeoutSeconds": "timeout_seconds", "failureThreshold": "failure_threshold"}


def _probe_spec(raw: Any, key: str, base: ProbeSpec) -> ProbeSpec:
    spec = _mapping(raw, key, tuple(_SPEC_KEYS))
    changes: dict[str, Any] = {}
    for name, attr in _SPEC_KEYS.items():
        if name in spec:
            if name == "path":
                path = _string(spec[name], f"{key}.path", empty=False)
                if not path.startswith("/"):
                    raise ConfigError(f"{key}.path: {_show(path)} does not start with /")
                changes[attr] = path
            else:
                changes[attr] = _integer(spec[name], f"{key}.{name}", 1)
    return base._replace(**changes)


def _probes(raw: Any, at: str) -> Mapping[str, ProbeProfile]:
    profiles = dict(BUILTIN_PROFILES)
    for name, override in _mapping(raw, at).items():
        key = f"{at}.{name}"
        override = _mapping(override, key, _PROFILE_KEYS)
        base = profiles.get(name)
        if base is None and "port" not in override:
            raise ConfigError(f"{key}.port: missing for a new profile")
        port = _integer(override.get("port", base.port if base else 0), f"{key}.port", 1, 65535)
        protocol = override.get("protocol", base.protocol if base else "http")
        if protocol not in ("http", "tcp"):
            raise ConfigError(f"{key}.protocol: {_show(protocol)} is not one of http, tcp")
        base = base or ProbeProfile(port=port)
        profiles[name] = ProbeProfile(
            port=port,
            protocol=protocol,
            startup=_probe_spec(override.get("startup"), f"{key}.startup", base.startup),
            liveness=_probe_spec(override.get("liveness"), f"{key}.liveness", base.liveness),
            readiness=_probe_spec(override.get("readiness"), f"{key}.readiness", base.readiness),
        )
    return MappingProxyType(profiles)


def parse_spec(spec: Any, at: str = "spec") -> Config:
    """Validate an AIPatches ``spec`` mapping; ``at`` is where it sits, for error messages."""
    spec = _mapping(spec, at, ("gpu", "backup", "probes"))
    return Config(
        gpu=_gpu(spec.get("gpu"), f"{at}.gpu"),
        backup=_backup(spec.get("backup"), f"{at}.backup"),
        probes=_probes(spec.get("probes"), f"{at}.probes"),
    )


def _from_config_map(data: Any) -> Config:
    """``kpt fn eval -- gpu.vendor=amd backup.tiers.cache=Weekly``: dotted keys, text values."""
    spec: dict[str, Any] = {}
    for dotted, value in _mapping(data, "data").items():
        parts = str(dotted).split(".")
        if len(parts) < 2 or parts[0] not in ("gpu", "backup") or parts[1] in ("nodeSelector", "tolerations"):
            raise ConfigError(f"data.{dotted}: unknown key (use gpu.<field> or backup.<field>; lists and maps need an AIPatches file)")
        node = spec
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):  # gpu.vendor=amd and gpu.vendor.x=y
                raise ConfigError(f"data.{dotted}: data.{'.'.join(parts[: depth + 1])} is a value, not a section")
        if isinstance(node.get(parts[-1]), dict):
            raise ConfigError(f"data.{dotted}: is a section of other keys here, not a value")
        node[parts[-1]] = value
    return parse_spec(spec, at="data")


def parse_config(doc: Any) -> Config:
    """Any functionConfig shape (rule 7): absent, a ConfigMap, or an AIPatches resource."""
    if doc is None or doc == {}:
        return Config()
    if not isinstance(doc, dict):
        raise ConfigError(f"functionConfig: {_show(doc)} is not a mapping")
    kind = doc.get("kind")
    if kind == "ConfigMap":
        return _from_config_map(doc.get("data"))
    if kind != CONFIG_KIND:
        raise ConfigError(f"kind: {_show(kind)} is not {CONFIG_KIND} (or a ConfigMap)")
    if doc.get("apiVersion") != API_VERSION:
        raise ConfigError(f"apiVersion: {_show(doc.get('apiVersion'))} is not {API_VERSION}")
    return parse_spec(doc.get("spec"))
