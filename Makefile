# kubeline developer tasks. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: install install-test demo test lint compile-examples golden bench kind-up kind-run kind-down

install:
	bash scripts/install.sh

install-test:
	bash scripts/install.sh --test

demo: install
	cd examples/compare_models && $(PYTHON) -m kubeline.cli run pipeline.py -p pipeline_arg=20

test: install-test
	$(PYTHON) -m pytest -q -p no:cacheprovider

lint:
	$(PYTHON) -m ruff check src tests bench
	$(PYTHON) -m mypy

compile-examples:
	for ex in examples/*/pipeline.py; do \
	  name=$$(basename $$(dirname $$ex)); \
	  $(PYTHON) -m kubeline.cli compile $$ex -o build/$$name || exit 1; \
	done

golden:
	KUBELINE_REGENERATE=1 $(PYTHON) -m pytest -q tests/compiler/test_golden.py

bench:
	$(PYTHON) bench/compile.py
