"""The AIPatches configuration: parse and validate into a frozen value. Pure, no I/O.

Every error names the key and the value, e.g.
``spec.gpu.vendor: "nvidea" is not one of nvidia, amd, intel``.
"""

from __future__ import annotations

from collections import namedtuple
from types import MappingProxyType

from kfn import deprecated
from kfn.errors import ConfigError, type_name
from kfn.numbers import MAX_INT, whole_number
from kfn.probes import PROBE_KINDS, ProbeProfile, ProbeSpec
from kfn.results import result
from kfn.selectors import CONFIG_KIND, GROUP

TYPE_CHECKING = False  # typing is for type checkers only (start-up: see kfn/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

API_VERSION = GROUP + "/v1alpha1"
DATA_CLASSES = ("models", "data", "cache")

# Each vendor's GPU resources, the first the default; sources in kfn/README.md ("Vendor defaults").
VENDORS: Mapping[str, Mapping[str, Any]] = {
    "nvidia": {"resources": ("nvidia.com/gpu",)},
    "amd": {"resources": ("amd.com/gpu",)},
    "intel": {"resources": ("gpu.intel.com/i915", "gpu.intel.com/xe")},
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
            MappingProxyType(dict(deprecated.NODE_SELECTORS["nvidia"])),
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
        defaults=("backup.velero.io/backup-tier", MappingProxyType(dict(deprecated.TIERS))),
    )
):
    """``spec.backup``: the label key and a read-only data class -> tier mapping."""

    __slots__ = ()


class Defaulted(
    namedtuple(
        "Defaulted",
        "profiles tiers node_selector",
        defaults=(frozenset(deprecated.PROFILES), frozenset(deprecated.TIERS), True),
    )
):
    """What a Config takes from kfn's deprecated defaults (``kfn.deprecated``), for the warnings where it is used.

    ``profiles`` the built-in profile names spec.probes does not define, ``tiers`` the data classes
    spec.backup.tiers does not name, ``node_selector`` True when the vendor default selector applies.
    """

    __slots__ = ()


class Config(
    namedtuple(
        "Config",
        "gpu backup probes defaulted warnings",
        defaults=(GpuConfig(), BackupConfig(), MappingProxyType(dict(deprecated.PROFILES)), Defaulted(), ()),
    )
):
    """The validated AIPatches spec: immutable, defaults as documented in kfn/README.md.

    ``gpu`` a GpuConfig, ``backup`` a BackupConfig, ``probes`` a read-only name -> ProbeProfile mapping,
    ``defaulted`` a Defaulted, ``warnings`` the warning results about the functionConfig itself.
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


def _gpu(raw: Any, at: str) -> tuple[GpuConfig, bool]:
    """``spec.gpu``, and whether its node selector is the deprecated vendor default."""
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
    config = GpuConfig(
        vendor=vendor,
        resource=resource,
        # Unset: the deprecated vendor default; {} (or any mapping) is taken as written.
        node_selector=_string_map(selector, f"{at}.nodeSelector") if selector is not None else MappingProxyType(dict(deprecated.NODE_SELECTORS.get(vendor, {}))),
        # [] (or unset) means the vendor default, as documented since kfn 0.1; another type is an error.
        tolerations=_tolerations(tolerations, f"{at}.tolerations") if tolerations not in (None, []) else (MappingProxyType(_vendor_toleration(resource)),),
        runtime_class_name=_string(gpu.get("runtimeClassName") or "", f"{at}.runtimeClassName"),
        physical=_integer(gpu.get("physical", 0), f"{at}.physical", 0, 1_000_000),
        time_slicing_replicas=_integer(gpu.get("timeSlicingReplicas", 1), f"{at}.timeSlicingReplicas", 1, 1024),
    )
    return config, selector is None and bool(config.node_selector)


def _backup(raw: Any, at: str) -> tuple[BackupConfig, frozenset[str]]:
    """``spec.backup``, and the data classes without a tier there (they get the deprecated default)."""
    backup = _mapping(raw, at, ("label", "tiers"))
    tiers = dict(deprecated.TIERS)
    given = _mapping(backup.get("tiers"), f"{at}.tiers", DATA_CLASSES)
    for name, tier in given.items():
        tiers[name] = _string(tier, f"{at}.tiers.{name}", empty=False)
    label = _string(backup.get("label", BackupConfig().label), f"{at}.label", empty=False)
    return BackupConfig(label=label, tiers=MappingProxyType(tiers)), frozenset(deprecated.TIERS).difference(given)


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


def _profile(override: dict, key: str, base: ProbeProfile | None) -> ProbeProfile:
    """One ``spec.probes`` entry over ``base`` (a built-in profile, or None for a profile of its own)."""
    if base is None and "port" not in override:
        raise ConfigError(f"{key}.port: missing for a new profile")
    port = _integer(override.get("port", base.port if base else 0), f"{key}.port", 1, 65535)
    protocol = override.get("protocol", base.protocol if base else "http")
    if protocol not in ("http", "tcp"):
        raise ConfigError(f"{key}.protocol: {_show(protocol)} is not one of http, tcp")
    base = base or ProbeProfile(port=port)
    specs = {kind: _probe_spec(override.get(kind), f"{key}.{kind}", getattr(base, kind)) for kind in PROBE_KINDS}
    return ProbeProfile(port=port, protocol=protocol, **specs)


def _probes(raw: Any, at: str) -> tuple[Mapping[str, ProbeProfile], frozenset[str], list[tuple[tuple, str]]]:
    """(every profile, the built-in names spec.probes leaves to the deprecated defaults, (path, warning) pairs)."""
    profiles = dict(deprecated.PROFILES)
    warnings = []
    for name, override in _mapping(raw, at).items():
        key = f"{at}.{name}"
        override = _mapping(override, key, _PROFILE_KEYS)
        builtin = deprecated.PROFILES.get(name)
        found = profiles[name] = _profile(override, key, builtin)
        where = (*at.split("."), str(name))
        if builtin is not None and ("port" not in override or _profile(override, key, None) != found):
            warnings.append((where, deprecated.override_message(name)))
        if found.protocol == "tcp":
            for kind in PROBE_KINDS:
                spec = override.get(kind)
                if isinstance(spec, dict) and "path" in spec:
                    warnings.append(((*where, kind, "path"), _ignored_path(name, spec["path"], key, builtin, override)))
    return MappingProxyType(profiles), frozenset(deprecated.PROFILES).difference(_mapping(raw, at)), warnings


def _ignored_path(name: str, path: Any, key: str, builtin: ProbeProfile | None, override: dict) -> str:
    """Why a path on a TCP profile does nothing (the stable-diffusion built-in was HTTP in kfn 0.1)."""
    why = f'profile "{name}" probes over TCP'
    if builtin is not None and name == "stable-diffusion" and "protocol" not in override:
        why = 'the built-in "stable-diffusion" profile probes over TCP since kfn 0.2.0 (SD.Next answers /sdapi only with its login; 0.1 probed HTTP /internal/ping)'
    return f"{_show(path)} is ignored: {why}; set {key}.protocol: http to probe this path"


def parse_spec(spec: Any, at: str = "spec", doc: Any = None) -> Config:
    """Validate an AIPatches ``spec`` mapping; ``at`` is where it sits, for error messages.

    ``doc``: the functionConfig the spec came from, which the warning results name.
    """
    spec = _mapping(spec, at, ("gpu", "backup", "probes"))
    gpu, default_selector = _gpu(spec.get("gpu"), f"{at}.gpu")
    backup, default_tiers = _backup(spec.get("backup"), f"{at}.backup")
    probes, builtins, warnings = _probes(spec.get("probes"), f"{at}.probes")
    return Config(
        gpu=gpu,
        backup=backup,
        probes=probes,
        defaulted=Defaulted(profiles=builtins, tiers=default_tiers, node_selector=default_selector),
        warnings=tuple(result(doc if isinstance(doc, dict) else {}, "warning", message, path) for path, message in warnings),
    )


def _from_config_map(data: Any, doc: dict) -> Config:
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
    return parse_spec(spec, at="data", doc=doc)


def parse_config(doc: Any) -> Config:
    """Any functionConfig shape (rule 7): absent, a ConfigMap, or an AIPatches resource."""
    if doc is None or doc == {}:
        return Config()
    if not isinstance(doc, dict):
        raise ConfigError(f"functionConfig: {_show(doc)} is not a mapping")
    kind = doc.get("kind")
    if kind == "ConfigMap":
        return _from_config_map(doc.get("data"), doc)
    if kind != CONFIG_KIND:
        raise ConfigError(f"kind: {_show(kind)} is not {CONFIG_KIND} (or a ConfigMap)")
    if doc.get("apiVersion") != API_VERSION:
        raise ConfigError(f"apiVersion: {_show(doc.get('apiVersion'))} is not {API_VERSION}")
    return parse_spec(doc.get("spec"), doc=doc)
