# FAIG Lab — the two commands of the README:
#   make run    execute every notebook on the embedded default and re-render figures/
#   make test   unit tests + nbval over notebooks/*.ipynb
# Both create .venv/ (CPU PyTorch pinned by constraints.txt) on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

.PHONY: run test setup retrain benchmark sync clean notebooks

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	@mkdir -p results/notebooks figures
	@for nb in $(NOTEBOOKS); do \
	  echo "== $$nb"; \
	  $(VENV)/bin/papermill --cwd notebooks --no-progress-bar $$nb results/notebooks/$$(basename $$nb) || exit 1; \
	done
	@echo "figures re-rendered in figures/ (executed notebooks in results/notebooks/)"

test: $(VENV)/.installed
	$(PY) -m pytest -q

retrain: $(VENV)/.installed
	$(PY) -m faig_helpers retrain

benchmark: $(VENV)/.installed
	$(PY) benchmarks/bench_faig.py

sync: $(VENV)/.installed
	$(VENV)/bin/jupytext --sync notebooks/[0-9]*.py

clean:
	rm -rf results

# developers: rebuild the .ipynb halves from the .py halves (executed; only nbval-checked outputs kept)
notebooks: $(VENV)/.installed
	$(PY) scripts/refresh_notebooks.py
