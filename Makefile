# The two quick-start commands (README): `make run` and `make test`. CI runs .ci/run, which calls `make test`
# and then `make test-slow`.
PYTHON ?= python3
EXTRAS ?= webshop,babyai,train,alfworld,ray,web,langchain,dev

.PHONY: install run test test-slow test-vllm lint

install:
	bash scripts/install.sh "$(EXTRAS)"

run: install
	$(PYTHON) -m training.run

test: install
	$(PYTHON) -m pytest -m "not slow" -q

test-slow: install
	$(PYTHON) -m pytest -m slow -q || [ $$? -eq 5 ]  # 5: no slow test collected

test-vllm:
	bash scripts/install_vllm_venv.sh
	PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 VLLM_CPU_OMP_THREADS_BIND=0-1 .venv-vllm/bin/python -m pytest -m vllm -q -p no:cacheprovider tests/hiper_agents/test_vllm_backend.py tests/integrations/langchain/test_vllm.py

lint:
	$(PYTHON) -m ruff check .
