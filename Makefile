# fewpoints: every target sets itself up on a fresh machine (a .venv made with the system python3).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SEED   ?= 2013

.PHONY: demo test test-fast test-browser docs notebooks worksheets site lint lab benchmark data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras, remade when pyproject.toml changes.
$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-notebooks: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[notebooks]'
	touch $@

$(VENV)/.installed-browser: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,browser,site]'
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

$(VENV)/.installed-site: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[site]'
	touch $@

demo: $(VENV)/.installed-base
	@.ci/install-pango
	$(BIN)/fewpoints generate --preset classroom --seed $(SEED) --out demo-output/classroom --force
	$(BIN)/fewpoints unicity demo-output/classroom --time-bin 1h --points 1-6
	$(BIN)/fewpoints briefing --preset city --seed $(SEED) --out demo-output/briefing --force

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

# The inner loop: the suite without its slowest parts, under a minute on the project's 2
# cores. What it leaves out is this one list, chosen with `pytest --durations=0`: the
# tests marked slow (seconds, not milliseconds: medium worlds, every notebook executed, the
# briefing, the calibration, the hypothesis properties that draw hundreds of tables, the
# brute-force oracles, every README block run), the files that run the command line in
# child processes a test at a time (output folders, chunked worlds, the audit, the Dask
# cluster, link and explain), the figures drawn, and the few slowest tests left. `make test`
# runs everything, and is what CI runs.
FAST_SKIP := -m 'not slow and not browser' \
	--ignore=tests/io/test_output.py \
	--ignore=tests/cli/test_generate.py \
	--ignore=tests/synth/test_chunked.py \
	--ignore=tests/scale/test_engine.py \
	--ignore=tests/cli/test_audit.py \
	--ignore=tests/audit \
	--ignore=tests/io/test_projection.py \
	--ignore=tests/cli/test_errors.py \
	--ignore=tests/attacks/test_explain.py \
	--ignore=tests/cli/test_explain.py \
	--ignore=tests/cli/test_link.py \
	--ignore=tests/figures \
	--deselect=tests/attacks/test_postings.py::test_unicity_on_a_coarsened_index_matches_the_table_and_brute_force \
	--deselect=tests/attacks/test_postings.py::test_a_targets_points_are_the_same_before_and_after_sorting_every_device \
	--deselect=tests/attacks/linkage/test_posts.py::test_sets_shrink_with_more_posts_and_hold_the_poster \
	--deselect=tests/io/test_traces.py::test_read_traces_reads_what_the_reference_reads_or_refuses_in_one_line
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q $(FAST_SKIP)

# The documentation: docs/_build/html/index.html, built offline. docs/generate.py first
# writes the results pages (from benchmarks/results/*.json) and the generated fragments.
docs: $(VENV)/.installed-docs
	$(BIN)/python docs/generate.py
	$(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# The notebooks in JupyterLab, driven by headless Chromium (Debian's package; installed
# with apt-get when missing and run as root). Screenshots go to build/screenshots/.
CHROMIUM ?= /usr/bin/chromium
# It builds the site first: tests/browser/test_site.py opens its pages.
test-browser: $(VENV)/.installed-browser site
	@test -x $(CHROMIUM) || CHROMIUM=$(CHROMIUM) .ci/install-chromium
	FEWPOINTS_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest tests/browser -m browser

# Rebuild notebooks/*.ipynb from their sources in notebooks/source/ (outputs stay empty).
notebooks: $(VENV)/.installed-dev
	$(BIN)/python notebooks/build.py

# One printable page per lesson, built from the sources: build/worksheets/*.pdf.
worksheets: $(VENV)/.installed-dev
	$(BIN)/python notebooks/worksheets.py --out build/worksheets

# The lessons with outputs as a static site (executed teacher's editions, offline), the
# wheel for Colab, the worksheets and a JupyterLite copy: build/site/index.html. MathJax
# (for the formulas, served by the site itself) comes from the npm registry, once.
MATHJAX := build/npm/node_modules/mathjax/es5
$(MATHJAX)/tex-chtml-full.js:
	@command -v npm >/dev/null || { echo "make site needs npm (Node.js) to fetch MathJax"; exit 2; }
	npm install --silent --prefix build/npm --no-save --no-audit --no-fund mathjax@3.2.2

site: $(VENV)/.installed-site $(MATHJAX)/tex-chtml-full.js
	$(BIN)/python notebooks/site.py --out build/site --mathjax $(MATHJAX)

lab: $(VENV)/.installed-notebooks
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# Speed and memory claims (several minutes; figures go to benchmarks/README.md).
benchmark: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_unicity.py
	$(BIN)/python benchmarks/bench_anonymize.py
	$(BIN)/python benchmarks/bench_resolution.py
	$(BIN)/python benchmarks/bench_privacy.py
	$(BIN)/python benchmarks/bench_top_locations.py
	for m in cdr pings; do $(BIN)/python benchmarks/bench_linkage.py --observe $$m --out benchmarks/results/linkage_city_$$m.json; done

# Regenerate the shipped classroom dataset (the command the data card gives).
data: $(VENV)/.installed-base
	$(BIN)/fewpoints generate --preset classroom --seed $(SEED) --out synthetic_data/classroom --force

clean:
	rm -rf $(VENV) demo-output build docs/_build docs/_generated .pytest_cache .ruff_cache .hypothesis
