# The README documents these targets. Every target installs what it needs.
SHELL := /bin/bash
VENV := .venv/bin
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.work/collections
export KUBECONFIG_ATELIER := $(CURDIR)/.work/kubeconfig
PYTEST := $(VENV)/pytest

.PHONY: setup docker-up k8s-up k8s-down images image demo test test-unit sanity lint \
        test-integration test-molecule build clean core-matrix docs

setup:
	@bash hack/setup.sh

docker-up:
	@bash hack/docker-up.sh

k8s-up:
	@bash hack/k8s-up.sh

k8s-down:
	@bash hack/k8s-down.sh

images: setup

image:
	@bash hack/build-images.sh

demo: setup
	$(VENV)/ansible-playbook playbooks/demo.yml

test: setup k8s-up lint sanity test-unit test-integration test-molecule core-matrix

test-unit: setup
	$(PYTEST) tests/unit

sanity: setup
	@bash hack/sanity.sh

lint: setup
	$(VENV)/ruff check .
	$(VENV)/yamllint -s .
	$(VENV)/ansible-lint
	$(VENV)/antsibull-docs lint-collection-docs --plugin-docs .

test-integration: setup k8s-up
	$(PYTEST) tests/integration

test-molecule: setup
	@bash hack/molecule.sh

build: setup
	$(VENV)/ansible-galaxy collection build --force --output-path .work/dist

clean:
	rm -rf .work/dist .work/sanity

core-matrix: setup
	@bash hack/core-matrix.sh

docs: setup
	@bash hack/docs.sh
