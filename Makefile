# Entry points. `make run` and `make test` install what they need first.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps web build run test image bench bench-storage fuzz fmt fmt-check lint sanitize coverage clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMPORIUM_WERROR=ON

# The storefront and admin console (web/ -> web/dist, embedded in the binary).
web:
	scripts/web.sh

build: web
	@$(MAKE) --no-print-directory $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Runs Emporium all-in-one on :8080 with embedded storage under ./data.
run: deps build
	@echo "Emporium: open http://localhost:8080/ (admin console: http://localhost:8080/admin)"
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
# `make bench` prints issue 11's table (bench/all.sh; BENCH_QUICK=1 for a
# short try-out); `make bench-storage` the PostgreSQL reads and backup times.
bench: deps build
	bench/all.sh $(BUILD)

bench-storage: deps build
	bench/postgres_reads.sh $(BUILD)/emporium
	bench/backup_rpo_rto.sh $(BUILD)

# The libFuzzer targets (fuzz/): builds them with clang 14, ASan and UBSan
# in build-fuzz/, then runs each for FUZZ_SECONDS from its seed corpus.
FUZZ_SECONDS ?= 60
fuzz: deps
	JOBS=$(JOBS) scripts/fuzz.sh all $(FUZZ_SECONDS)

# clang-tidy with the repository's .clang-tidy over src/ and lib/.
lint: deps build
	scripts/lint.sh $(BUILD)

# The unit and integration suites under ASan + UBSan (build-sanitize/).
sanitize: deps
	scripts/instrumented.sh sanitize

# Line and branch coverage of src/ and lib/ by the unit and integration
# suites, printed by gcovr (build-coverage/, HTML in build-coverage/coverage.html).
coverage: deps
	scripts/instrumented.sh coverage

fmt:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

fmt-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) build-sanitize build-coverage build-both build-fuzz
