# Thin wrapper over CMake. `make run` builds and starts kith; `make check` runs every test,
# in a normal build and again under ASan+UBSan.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps run check check-normal check-asan clean format lint bench bench-pg bench-sync bench-health \
	screenshots install

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh

# `make install [DESTDIR=/tmp/x]`: the binary, kith(1), the systemd units and the example config
# (docs/deploy.md); PREFIX is CMake's CMAKE_INSTALL_PREFIX, /usr/local by default.
install: all
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD)

run: all
	./$(BUILD)/kith serve --listen 127.0.0.1:8080 --db ./kith.db

check: check-normal check-asan

check-normal: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

check-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKITH_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

lint:
	@scripts/lint.sh

# The landing page and the share hub at phone and desktop widths, into docs/screenshots/.
screenshots: all
	KITH_BIN=$(BUILD)/kith node tests/browser/screenshots.js

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h' 'fuzz/*.c' 'fuzz/*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

bench: deps
	bench/run.sh
	bench/pg.sh

bench-pg: deps
	bench/pg.sh

bench-sync: deps
	bench/sync.sh

bench-health: deps
	bench/health.sh
