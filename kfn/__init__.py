"""kfn: a KRM function that patches AI workloads (GPU, backup tiers, probes) and rejects anti-patterns.

Python API: ``kfn.core.process(items, config)``, ``kfn.checks.run(items, config)``,
``kfn.config.parse_config(doc)``; see kfn/README.md.

Start-up is most of a short run (kustomize starts the plugin once per build),
so no module imports ``typing`` at run time: annotations are strings (PEP 563)
and names only type checkers need sit under ``if TYPE_CHECKING:``.
"""

__version__ = "0.1.0"
