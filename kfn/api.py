"""kfn's public Python API for tools that read a rendered repository (the generated repo's validator).

Everything here follows the compatibility policy of kfn/README.md ("Compatibility"); kfn's other
modules are internals that may change in any release. Pure functions over plain dicts, no I/O.
"""

from __future__ import annotations

from kfn.checks import is_gpu_resource, lb_ips
from kfn.checks import run as run_checks
from kfn.config import VENDORS as GPU_VENDORS
from kfn.config import Config, parse_config
from kfn.errors import ConfigError
from kfn.results import field_path
from kfn.selectors import CONFIG_KIND, GROUP, all_containers, claim_templates, containers, is_pvc, is_service, is_workload, pod_spec, pod_spec_path

__all__ = [
    "CONFIG_KIND",
    "GROUP",
    "all_containers",
    "Config",
    "ConfigError",
    "GPU_VENDORS",
    "claim_templates",
    "containers",
    "field_path",
    "is_gpu_resource",
    "is_pvc",
    "is_service",
    "is_workload",
    "lb_ips",
    "parse_config",
    "pod_spec",
    "pod_spec_path",
    "run_checks",
]
