"""kfn: a KRM function that patches AI workloads (GPU, backup tiers, probes) and rejects anti-patterns.

Python API: ``kfn.core.process(items, config)``, ``kfn.checks.run(items, config)``,
``kfn.config.parse_config(doc)``; see kfn/README.md.
"""

__version__ = "0.1.0"
