# Two commands do all the set-up on a fresh machine:
#   make demo   a governed fine-tune of the bundled example under policies/gdpr.yaml
#   make test   the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/governed-finetune run --policy policies/gdpr.yaml

test: $(DEV_STAMP)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium not installed (apt-get unavailable): the browser test will skip"
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
