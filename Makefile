# Prism build entry points.
#   make demo      build, then print the conformance matrix of every available target (Prism's
#                  suites, and bpf_conformance's from ../shared/bpf_conformance/tests when present)
#   make test      all tests; the output ends with the Surefire totals of every module
#   make build     build the examples and compile and install every module, tests skipped
#   make examples  build examples/*.c into examples/build/*.o with clang-19
#   make nightly   all tests with the fuzzers scaled up (PRISM_NIGHTLY=1, -Dprism.nightly=true)
#   make setup     install the Debian packages below when missing (as root)
#   make arm64-sysroot  unpack an arm64 JVM for qemu-user (tests of the arm64 native path)
#   make clean     remove build outputs
#
# Maven runs on the newest JDK >= 25 (scripts/find-jdk, shared with ./prism), whatever
# `java` on PATH is. PRISM_REQUIRE (e.g. `make test PRISM_REQUIRE=all`, as .ci/run does)
# reaches the tests: make hands environment and command-line variables to its recipes,
# Maven passes its environment to the forked test JVMs.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# Debian packages the tests and examples use: clang/llvm (examples, cross-checks, llvm-mc),
# libunicorn2 (arm64 emulation), binutils (objdump, for x86-64 listings), qemu-user-static
# (an arm64 JVM, to test the arm64 JIT's native path). More join as targets need them
# (pocl-opencl-icd, ocl-icd-libopencl1, gcc-aarch64-linux-gnu, ...).
PACKAGES := clang-19 llvm-19 libunicorn2 binutils qemu-user-static pocl-opencl-icd ocl-icd-libopencl1 clinfo
# gcc and the aarch64/riscv64 cross gccs (with their binutils and static glibc): the csd firmware
# builds (target-csd); the cross libcs (only recommended by the gccs) link the static qemu-user
# harness; qemu-user-static above runs it.
PACKAGES += gcc gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu libc6-dev-arm64-cross libc6-dev-riscv64-cross

# Debian trixie's arm64 OpenJDK 25 and the libraries it loads, unpacked for qemu-user
# (scripts/arm64-sysroot: signature and hashes checked; kept between runs). The tests find it
# here too.
PRISM_ARM64_SYSROOT ?= $(HOME)/.cache/prism/arm64-sysroot
export PRISM_ARM64_SYSROOT

# The P4 toolchain (p4test, p4c-bm2-ss, BMv2 simple_switch and its CLI) for the p4 target:
# the workplace's ../shared/tools/p4 when it exists, unless PRISM_P4_HOME is set already. The
# project also finds the tools on PATH. `make setup` runs its install-deps (Debian runtime
# packages of the tools) when root.
P4_TOOLS := $(abspath $(ROOT)/../shared/tools/p4)
ifneq ($(wildcard $(P4_TOOLS)/bin/p4test),)
PRISM_P4_HOME ?= $(P4_TOOLS)
endif
ifdef PRISM_P4_HOME
export PRISM_P4_HOME
endif

# Wall-clock cap of `make test`, so a hang fails with a summary instead of running on.
TEST_TIMEOUT ?= 35m

# Sets JAVA_HOME (stops the recipe with find-jdk's message when there is no JDK >= 25).
# Maven's own guava uses sun.misc.Unsafe, which JDK 24+ warns about; the JDK is >= 25 here.
JDK_ENV = JAVA_HOME=$$($(ROOT)/scripts/find-jdk); \
	export JAVA_HOME MAVEN_OPTS="$${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow";
MVN = mvn -B -ntp -f $(ROOT)/pom.xml
# Maven 3.8 writes colour resets even in batch mode; keep logs plain.
PLAIN = 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'

.PHONY: setup arm64-sysroot build examples test demo nightly clean

setup:
	@missing=""; \
	if ! command -v dpkg-query >/dev/null; then \
	  echo "setup: not a Debian system; install the equivalents of: $(PACKAGES)" >&2; exit 0; \
	fi; \
	for p in $(PACKAGES); do \
	  [[ $$(dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null) == "install ok installed" ]] || missing+=" $$p"; \
	done; \
	if [[ -n "$${PRISM_P4_HOME:-}" && -x "$${PRISM_P4_HOME}/install-deps" ]]; then \
	  if [[ $$(id -u) == 0 ]]; then "$${PRISM_P4_HOME}/install-deps" >&2 || echo "setup: the P4 toolchain's install-deps failed; the p4 target's tests are skipped, or fail under PRISM_REQUIRE=all" >&2; \
	  else echo "setup: not root, so $${PRISM_P4_HOME}/install-deps was not run" >&2; fi; \
	fi; \
	[[ -n $$missing ]] || exit 0; \
	if [[ $$(id -u) != 0 ]]; then \
	  echo "setup: missing Debian packages:$$missing (not root, so not installed; tests that need them are skipped, or fail under PRISM_REQUIRE=all)" >&2; \
	  exit 0; \
	fi; \
	mkdir -p $(ROOT)/target; log=$(ROOT)/target/setup.log; \
	echo "setup: installing$$missing (log: $$log)" >&2; \
	apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 $$missing; }; \
	if ! apt_install >"$$log" 2>&1; then \
	  if ! { apt-get update && apt_install; } >>"$$log" 2>&1; then \
	    tail -n 25 "$$log" >&2; echo "setup: installing$$missing failed (log: $$log)" >&2; exit 1; \
	  fi; \
	fi

# Only the tests need it (about 55 MB downloaded once, 260 MB unpacked).
arm64-sysroot: setup
	@$(ROOT)/scripts/arm64-sysroot "$(PRISM_ARM64_SYSROOT)" >/dev/null || \
	  echo "setup: no arm64 sysroot; the arm64 native-path test is skipped, or fails under PRISM_REQUIRE=all" >&2

build: setup examples
	@$(JDK_ENV) $(MVN) -q install -DskipTests $(PLAIN)

# The example programs (examples/*.c -> examples/build/*.o) with clang-19. Tests build their
# own copies into a content-addressed cache, so a stale build/ can never fool them.
examples: setup
	@$(MAKE) -s -C $(ROOT)/examples

# Stale reports would be counted in the summary, so they go first.
test: setup arm64-sysroot
	@rm -rf $(ROOT)/*/target/surefire-reports
	@$(JDK_ENV) rc=0; \
	timeout --foreground --kill-after=30s $(TEST_TIMEOUT) $(MVN) install -Dsurefire.printSummary=true $(PLAIN) || rc=$$?; \
	if (( rc == 124 )); then echo "make test: stopped after $(TEST_TIMEOUT) (TEST_TIMEOUT)" >&2; fi; \
	$(ROOT)/scripts/test-summary; exit $$rc

# bpf_conformance's own suite, when the workplace provides it next to the repository.
UPSTREAM_TESTS ?= $(abspath $(ROOT)/../shared/bpf_conformance/tests)

# The matrix of every target this host runs ("available"), on Prism's suites, then on
# bpf_conformance's suite when UPSTREAM_TESTS exists. Both run; the exit status is the worst.
demo: build
	@rc=0; \
	echo "== Prism's suites (RFC 9669, maps) on every target available here"; \
	$(ROOT)/prism conformance --target available || rc=$$?; \
	if [[ -d "$(UPSTREAM_TESTS)" ]]; then \
	  echo; echo "== bpf_conformance's suite ($(UPSTREAM_TESTS)) on every target available here"; \
	  $(ROOT)/prism conformance --suite "$(UPSTREAM_TESTS)" --target available || rc=$$?; \
	else \
	  echo; echo "(no bpf_conformance suite at $(UPSTREAM_TESTS): its matrix is left out)"; \
	fi; \
	exit $$rc

# Tests scale their fuzzing up when PRISM_NIGHTLY=1 (environment) or -Dprism.nightly=true
# (system property; Maven passes command-line -D properties to the test JVMs). No time cap.
nightly: setup arm64-sysroot
	@rm -rf $(ROOT)/*/target/surefire-reports
	@$(JDK_ENV) export PRISM_NIGHTLY=1; rc=0; \
	$(MVN) install -Dprism.nightly=true -Dsurefire.printSummary=true $(PLAIN) || rc=$$?; \
	$(ROOT)/scripts/test-summary; exit $$rc

clean:
	rm -rf $(ROOT)/target $(ROOT)/*/target $(ROOT)/examples/build
