# Every target sets up the virtualenv it needs on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
# kfn's legacy plugin and the wheel-installed kubectl/sops must come first on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: demo test test-all test-fast test-runtime test-renovate fuzz oracle bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# compat: a plain path entry, no import hook on every Python start; its deprecation banner is noise here.
	PYTHONWARNINGS='ignore:Compat editable installs' $(BIN)/python -m pip install -q -e '.[dev,bench]' --config-settings editable_mode=compat
	touch $@

# Bake the default answers from a clone of this checkout's HEAD, as `cookiecutter gh:org/ai-gitops` fetches
# it, into DEMO_DIR: outside the checkout, in the user's cache, because a later `cookiecutter .` from this
# checkout copies the whole directory before its first question (hooks/pre_prompt.py exists) and would
# drag the demo's repo, clone and tools along; the cache also survives a reboot, unlike /tmp. For the same
# reason the demo needs no .venv here: cookiecutter (the version pyproject.toml pins) and the demo repo's
# tools (its requirements.txt) go into DEMO_TOOLS, installed once and again only when either changes.
# The bake uses those tools as they are (VENV) and the demo repo's .venv links to them, so its own make
# targets install nothing either (its Makefile takes .venv as installed when .venv/.installed is newer than
# requirements.txt: touched after the bake). The bake renders through the repo's Makefile; what follows
# only shows the result.
DEMO_DIR     ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ai-gitops/demo
DEMO_TOOLS   ?= $(DEMO_DIR)/tools
DEMO_REPO    := $(DEMO_DIR)/ai-gitops
DEMO_WANTS   := $(DEMO_DIR)/tools-wanted.txt
COOKIECUTTER := $(shell grep -o '"cookiecutter==[^"]*"' pyproject.toml | tr -d '"')
demo:
	@rm -rf '$(DEMO_DIR)/template' '$(DEMO_REPO)'
	@git clone -q . '$(DEMO_DIR)/template'
	@{ cat '$(DEMO_DIR)/template/{{cookiecutter.repo}}/requirements.txt'; echo '$(COOKIECUTTER)'; } > '$(DEMO_WANTS)'
	@cmp -s '$(DEMO_WANTS)' '$(DEMO_TOOLS)/installed.txt' || { \
		echo "installing cookiecutter and the demo repo's tools into $(DEMO_TOOLS) (pip; again only when they change) ..."; \
		rm -rf '$(DEMO_TOOLS)' && $(PYTHON) -m venv '$(DEMO_TOOLS)' && \
		'$(DEMO_TOOLS)/bin/python' -m pip install --quiet --disable-pip-version-check -r '$(DEMO_WANTS)' && \
		mv '$(DEMO_WANTS)' '$(DEMO_TOOLS)/installed.txt'; }
	@rm -f '$(DEMO_WANTS)'
	VENV='$(DEMO_TOOLS)' '$(DEMO_TOOLS)/bin/cookiecutter' --no-input --output-dir '$(DEMO_DIR)' '$(DEMO_DIR)/template'
	@ln -s '$(DEMO_TOOLS)' '$(DEMO_REPO)/.venv' && touch '$(DEMO_TOOLS)/.installed' && echo .venv >> '$(DEMO_REPO)/.git/info/exclude'
	@echo; echo "== $(DEMO_REPO)/kubernetes/rendered: what Flux applies"
	@cd '$(DEMO_REPO)' && find kubernetes/rendered -name '*.yaml' ! -name kustomization.yaml | sort | sed 's/^/  /'
	@echo; echo "== what kfn added in namespace ai (the base manifests only carry its markers)"
	@cd '$(DEMO_REPO)/kubernetes/rendered/production' && for f in */ai/*.yaml; do \
		added=$$(grep -oE 'nvidia.com/gpu: [0-9]+|nvidia.com/gpu.present|[a-z]+Probe|backup-tier: [A-Za-z]+' $$f | sort -u | tr '\n' ' '); \
		[ -z "$$added" ] || echo "  $$f: $$added"; \
	done
	@echo; echo "== git"; git -C '$(DEMO_REPO)' log --oneline --shortstat | sed 's/^/  /'
	@echo; sed -n '/^## Access points/,/^## Bootstrap/{/^## Bootstrap/d;p}' '$(DEMO_REPO)/clusters/production/README.md'

# make test: every tier that runs on this machine in a few minutes: not the tests marked slow, nor those
# that start real servers (make test-runtime), nor the real Renovate (make test-renovate). make test-fast:
# kfn and the pure-Python units, no cookiecutter bake (the `bake` tier, tests/conftest.py), for the
# edit-test loop. make test-all: all of it.
# The bake tier spends its time in subprocesses (cookiecutter, kustomize, sops, make): pytest-xdist runs
# it on every core, at most 4 (each worker bakes the session's shared repos once for itself).
PARALLEL := -n auto --maxprocesses 4
test: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) -m "not slow and not runtime and not renovate"

test-all: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) -m "not runtime"
	$(MAKE) --no-print-directory test-runtime

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not bake and not slow and not runtime and not renovate"

# The generated repo's Renovate config through the real Renovate (npm: Renovate and Node 24, installed
# once into ~/.cache/ai-gitops; about 100 s the first time).
test-renovate: $(STAMP)
	$(BIN)/python -m pytest -m renovate tests/template/test_renovate.py

# Random ResourceLists through kfn (both backends; every 10th also through the kfn command and kpt),
# then the semantic oracle (kfn's output against a model of kfn/README.md) on as many valid cases.
# `make test` runs a slice of each; e.g. make fuzz SEED=1 CASES=10000 (CLI_EVERY: every n-th case via kfn and kpt)
SEED      ?= 1
CASES     ?= 2000
CLI_EVERY ?= 10
fuzz: $(STAMP)
	$(BIN)/python tests/kfn/kfn_fuzz.py --seed $(SEED) --cases $(CASES) --cli-every $(CLI_EVERY)
	$(BIN)/python tests/kfn/kfn_oracle.py --seed $(SEED) --cases $(CASES)

oracle: $(STAMP)
	$(BIN)/python tests/kfn/kfn_oracle.py --seed $(SEED) --cases $(CASES)

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
