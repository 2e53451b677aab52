# On a fresh machine: `make demo` (pretraining set-up, then a short pretraining with a
# checkpoint and a reconstruction picture, in a few minutes) or `make test` (full set-up,
# then the test suite). Set-up runs once; it is redone only when the requirements change.
# `make docs` builds the manual (docs/, mkdocs.yml) into work_dirs/site; warnings are errors.
# `make lint` checks the code with ruff (ruff.toml) and its layout with yapf (.style.yapf);
# `make format` applies both.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
SETUP_INPUTS := tools/setup_env.sh tools/build_mmcv.sh setup.py $(wildcard requirements/*.txt)
READY := $(VENV)/.simmim_mm-ready
PRETRAIN_READY := $(VENV)/.simmim_mm-pretrain-ready

.PHONY: setup demo test docs lint format

setup: $(READY)

# everything: mmcv with compiled ops (first time ~15 min on 2 cores), mmdet, mmseg, tests, docs
$(READY): $(SETUP_INPUTS)
	VENV=$(VENV) bash tools/setup_env.sh
	touch $@ $(PRETRAIN_READY)

# pretraining only: mmcv without ops, built in seconds
$(PRETRAIN_READY): $(SETUP_INPUTS)
	VENV=$(VENV) SIMMIM_MM_SETUP=pretrain bash tools/setup_env.sh
	touch $@

demo: $(PRETRAIN_READY)
	$(PYTHON) tools/train.py configs/demo/simmim_swin-demo_1xb8-800iter_photos-96px.py --work-dir work_dirs/simmim_demo

test: setup
	$(PYTHON) -m pytest tests

docs: setup
	$(PYTHON) -m mkdocs build --strict --site-dir work_dirs/site

LINTED := simmim_mm tools tests configs .dev_scripts setup.py

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m yapf --diff --recursive --parallel $(LINTED)

format: setup
	$(PYTHON) -m ruff check --fix --select I .
	$(PYTHON) -m yapf --in-place --recursive --parallel $(LINTED)
