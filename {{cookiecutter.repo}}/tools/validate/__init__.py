"""`make validate`: prove offline that what Flux applies from this repo is right.

Five stages, each a module with a ``check`` function returning ``Problem``s:
flux (parity with kustomize-controller), drift (what `make render` writes is up to date),
secrets (SOPS), schema (Kubernetes and CRD schemas) and policy (kfn's checks tree-wide), every one
per cluster: each cluster's rendered output is judged with its own answers (clusters/<name>/cluster.yaml)
and sources (templates/ rendered for it, ``tools.validate.workspaces``).
``python -m tools.validate --help`` runs them; ``tools.validate.run`` is the driver.
"""
