# Two commands: `make demo` and `make test`. Everything else is a helper of those two.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: demo test lint typecheck pytest system-deps clean fuzz

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m fixtures.demo

system-deps:
	@bash scripts/system-deps.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=30

test: system-deps lint typecheck pytest

# Coverage-guided fuzzing (not part of `make test`): FUZZ_SECONDS per target, one at a
# time. Needs the `fuzz` extra (atheris). Crashes land in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := pdf cms eforms

fuzz: $(STAMP)
	$(PY) -m pip install -q -e '.[fuzz]'
	$(PY) -m fuzz.seeds
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/artifacts/$$t; \
		echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		$(PY) -m fuzz.$${t}_target fuzz/corpus/$$t -max_total_time=$(FUZZ_SECONDS) \
			-timeout=30 -rss_limit_mb=2048 -artifact_prefix=fuzz/artifacts/$$t/ || exit 1; \
	done

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
