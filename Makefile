# On a fresh machine: `make demo` (set up, then a short pretraining with a checkpoint and a
# reconstruction picture) or `make test` (set up, then the test suite). Set-up runs once; it
# is redone only when the requirements change.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
READY := $(VENV)/.simmim_mm-ready

.PHONY: setup demo test

setup: $(READY)

$(READY): tools/setup_env.sh setup.py $(wildcard requirements/*.txt)
	VENV=$(VENV) bash tools/setup_env.sh
	touch $@

demo: setup
	$(PYTHON) tools/train.py configs/demo/simmim_swin-demo_1xb8-200iter_photos-192px.py --work-dir work_dirs/simmim_demo

test: setup
	$(PYTHON) -m pytest tests
