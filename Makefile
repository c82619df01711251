# The two quick-start commands (README): `make run` and `make test`. CI runs .ci/run, which calls `make test`,
# then `make test-slow` and `make test-vllm`.
PYTHON ?= python3
EXTRAS ?= webshop,babyai,train,alfworld,ray,web,langchain,dev

.PHONY: install browser run test test-slow test-vllm lint

install:
	bash scripts/install.sh "$(EXTRAS)"

browser:  # Chromium and chromedriver for hiper/WebTask-v0's browser tests (Debian packages)
	bash scripts/install_chromium.sh

run: install
	$(PYTHON) -m training.run

test: install browser  # the suite CI runs, browser tests included
	$(PYTHON) -m pytest -m "not slow" -q

test-slow: install
	$(PYTHON) -m pytest -m slow -q || [ $$? -eq 5 ]  # 5: no slow test collected

test-vllm:
	bash scripts/install_vllm_venv.sh
	PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 VLLM_CPU_OMP_THREADS_BIND=0-1 .venv-vllm/bin/python -m pytest -m vllm -q -p no:cacheprovider tests/hiper_agents/test_vllm_backend.py tests/integrations/langchain/test_vllm.py tests/training/test_vllm_trainer.py

lint:
	$(PYTHON) -m ruff check .
