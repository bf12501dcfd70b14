# kubeline developer tasks. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
export PYTHON
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: install install-test install-azureml aml-parity demo test lint compile-examples golden bench \
	kind-up kind-run kind-down cluster-up cluster-down cluster-test cluster-ci

install:
	bash scripts/install.sh

install-test:
	bash scripts/install.sh --test

install-azureml:
	$(PYTHON) -m pip install -q ./compat/azureml
	$(PYTHON) -m kubeline_azureml

aml-parity:
	$(PYTHON) scripts/aml_parity.py

demo: install
	cd examples/compare_models && $(PYTHON) -m kubeline.cli run pipeline.py -p pipeline_arg=20

# The unit suite and the cluster part (scripts/cluster/ci.sh) side by side: docs/decisions/0040.
test: install-test
	bash scripts/test.sh

# The cluster part alone: the cluster tests on an in-box cluster started and stopped around
# them (scripts/cluster/ci.sh: cluster-down runs even when a test fails; docs/decisions/0024).
cluster-ci: install-test
	bash scripts/cluster/ci.sh

lint:
	$(PYTHON) -m ruff check src tests bench scripts compat
	$(PYTHON) -m mypy
	$(PYTHON) -c "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"

compile-examples:
	for ex in examples/*/pipeline.py; do \
	  name=$$(basename $$(dirname $$ex)); \
	  $(PYTHON) -m kubeline.cli compile $$ex -o build/$$name || exit 1; \
	done

golden:
	KUBELINE_REGENERATE=1 $(PYTHON) -m pytest -q tests/compiler/test_golden.py tests/compiler/test_kfp_golden.py

bench:
	$(PYTHON) bench/compile.py
	$(PYTHON) bench/local_run.py

# The runtime image as an OCI archive (also `docker load`-able), built without a daemon
# (root; docs/cluster-images.md). Prints "<archive><TAB><reference>".
.PHONY: image
image:
	bash scripts/cluster/images/build.sh runtime

# --- a local kind cluster (needs Docker, kind and kubectl; see manifests/README.md) --------
KIND_CLUSTER ?= kubeline
ARGO_VERSION ?= v4.1.4
KIND_CONFIG := manifests/kind/kubeline.yaml

kind-up:
	kind create cluster --config manifests/kind/cluster.yaml
	kubectl create namespace argo
	kubectl apply -n argo --server-side -f https://github.com/argoproj/argo-workflows/releases/download/$(ARGO_VERSION)/install.yaml
	kubectl apply -f manifests/base/namespace.yaml
	kubectl -n kubeline create secret generic kubeline-minio \
	  --from-literal=accessKey=kubeline --from-literal=secretKey=$$(openssl rand -hex 16)
	kubectl apply -k manifests/kind
	docker build -t kubeline/runtime:dev -f docker/runtime/Dockerfile .
	kind load docker-image kubeline/runtime:dev --name $(KIND_CLUSTER)
	kubectl -n kubeline rollout status deploy/minio --timeout=180s
	kubectl -n argo rollout status deploy/workflow-controller --timeout=180s

kind-run:
	kubectl -n kubeline port-forward svc/minio 9000:9000 >/dev/null 2>&1 & echo $$! > .kind-pf.pid
	sleep 2
	export AWS_ACCESS_KEY_ID=$$(kubectl -n kubeline get secret kubeline-minio -o jsonpath='{.data.accessKey}' | base64 -d); \
	export AWS_SECRET_ACCESS_KEY=$$(kubectl -n kubeline get secret kubeline-minio -o jsonpath='{.data.secretKey}' | base64 -d); \
	export KUBELINE_S3_ENDPOINT_OVERRIDE=http://127.0.0.1:9000 KUBELINE_CONFIG=$(KIND_CONFIG); \
	$(PYTHON) -c "import boto3,os; boto3.client('s3', endpoint_url=os.environ['KUBELINE_S3_ENDPOINT_OVERRIDE']).create_bucket(Bucket='kubeline')" 2>/dev/null; \
	$(PYTHON) -m kubeline.cli compile examples/compare_models/pipeline.py -o build/kind/compare_models && \
	$(PYTHON) -m kubeline.cli validate build/kind/compare_models; \
	status=$$?; kill $$(cat .kind-pf.pid); rm -f .kind-pf.pid; exit $$status
	kubectl apply -k build/kind/compare_models
	kubectl -n kubeline wait --for=condition=Completed workflow/compare-models --timeout=600s

kind-down:
	kind delete cluster --name $(KIND_CLUSTER)

# --- the in-box cluster: Kubernetes + Argo + S3 in a network namespace (root; docs/cluster.md) ---
# `make cluster-ci` starts a box and runs the CI set; cluster-test runs every cluster test on a box already up.
CLUSTER_PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider -m cluster tests/cluster

cluster-up:
	bash scripts/cluster/up.sh

cluster-down:
	bash scripts/cluster/down.sh

cluster-test:
	$(CLUSTER_PYTEST)
