"""`make validate`: prove offline that what Flux applies from this repo is right.

Five stages, each a module with a ``check`` function returning ``Problem``s:
flux (parity with kustomize-controller), drift (kubernetes/rendered/ is up to date),
secrets (SOPS), schema (Kubernetes and CRD schemas) and policy (kfn's checks tree-wide).
``python -m tools.validate --help`` runs them; ``tools.validate.run`` is the driver.
"""
