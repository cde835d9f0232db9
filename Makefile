# Every target creates what it needs; nothing is assumed on the machine but python3.
PYTHON ?= python3
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
PAIRS := oldest newest
PYTEST_ARGS ?=

# Never let uv fetch a Python build: use the interpreter this machine has.
export UV_PYTHON_DOWNLOADS := never

# test-oldest and test-newest come from the test-% pattern rule, so they must not be listed:
# make never applies an implicit rule to a phony target, and would run no tests.
.PHONY: test lint demo bench docs dist clean

test: lint test-oldest test-newest

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip uv

# One virtual environment per supported Airflow + cncf-kubernetes pair (ci/<pair>.txt).
.venv-%/.installed: $(UV) pyproject.toml ci/%.txt
	rm -rf .venv-$*
	$(UV) venv --quiet --python $(PYTHON) .venv-$*
	VIRTUAL_ENV=$(CURDIR)/.venv-$* $(UV) pip install --quiet -e ".[test,demo]" -r ci/$*.txt
	touch $@

test-%: .venv-%/.installed
	@echo "== tests on the $* pair: $$(.venv-$*/bin/python -c 'import airflow, importlib.metadata as m; print("apache-airflow", airflow.__version__, "cncf-kubernetes", m.version("apache-airflow-providers-cncf-kubernetes"))' 2>/dev/null)"
	.venv-$*/bin/python -m pytest $(PYTEST_ARGS)

lint: .venv-newest/.installed
	.venv-newest/bin/ruff check airflow_vault_provider tests bench demo
	.venv-newest/bin/mypy airflow_vault_provider

# The whole system end to end on this machine: OpenBao, Airflow, both pods, vault-init, the task.
demo: .venv-newest/.installed
	.venv-newest/bin/python demo/run_demo.py

bench: .venv-newest/.installed
	.venv-newest/bin/python bench/injection_overhead.py
	.venv-newest/bin/python bench/executor_throughput.py

clean:
	rm -rf $(TOOLS) .venv-oldest .venv-newest build dist docs/_build .pytest_cache .mypy_cache .ruff_cache

# The documentation site; Sphinx treats every warning as an error.
docs: .venv-newest/.installed
	VIRTUAL_ENV=$(CURDIR)/.venv-newest $(UV) pip install --quiet -e ".[docs]" -r ci/newest.txt
	.venv-newest/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

# Wheel and sdist, checked by twine and for the files users need (ci/check_dist.py).
dist: .venv-newest/.installed
	VIRTUAL_ENV=$(CURDIR)/.venv-newest $(UV) pip install --quiet -e ".[release]" -r ci/newest.txt
	rm -rf dist
	.venv-newest/bin/python -m build --outdir dist .
	.venv-newest/bin/twine check --strict dist/*
	.venv-newest/bin/python ci/check_dist.py dist
