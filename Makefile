# Entry points. `make run` and `make test` install what they need first.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build run test image bench fmt fmt-check clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Runs Emporium all-in-one on :8080 with embedded storage under ./data.
run: deps build
	$(BUILD)/emporium serve --listen=0.0.0.0:8080 --data-dir=./data

# Runs every test: installs packages, builds, then ctest.
test: deps build
	scripts/test.sh $(BUILD)

# The container image every service runs from (podman, FROM scratch):
# localhost/emporium:<version> and localhost/emporium:local.
image: deps build
	scripts/image.sh $(BUILD)

# Load measurements side by side with a reference (nginx, pgbench) on this
# machine (not tests).
bench: deps build
	bench/http_vs_nginx.sh $(BUILD)/emporium
	bench/shop_vs_nginx.sh $(BUILD)/emporium
	bench/checkout.sh $(BUILD)/emporium $(BUILD)/bench/checkout_load
	bench/postgres_reads.sh $(BUILD)/emporium

fmt:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

fmt-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD)
