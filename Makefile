# aliiot — Wireshark plugin for Alibaba Cloud IoT over MQTT.
#   make run      install what is missing, build, install the plugin, show a real device session
#   make test     install what is missing, build, run every test
# See README.md for the rest.

CARGO   ?= cargo
SERIES  := $(shell pkg-config --modversion wireshark 2>/dev/null | cut -d. -f1,2)
PLUGIN  := target/release/libaliiot.so
CAPTURE := tests/captures/01-aliyun-iot-mqtt-basic.pcapng
# The tutorial device's secret from tests/captures/manifest.json (made-up lab credentials).
SECRET  := uat:aliiot_device_secrets:"a1B2c3D4e5F","lab-sensor-01","3f1d0c9e8b7a6d5c4b3a29180f7e6d01"

.PHONY: all deps build test run install uninstall install-profile deb compat docs gui-check fuzz fuzz-captures valgrind bench bench-compat bench-instructions bench-core clean

all: build

deps:
	@packaging/deps.sh

build: deps
	$(CARGO) build --release --locked

# The test build carries the panic test hook (feature panic-hook); `make build` never does.
test: deps
	$(CARGO) test --release --locked --features panic-hook

install: build
	@packaging/install.sh install $(PLUGIN) $(SERIES)

uninstall:
	@packaging/install.sh uninstall

# A Debian package for this machine's Wireshark, in packaging/out/.
deb: build
	@packaging/deb.sh $(PLUGIN) packaging/out

# The "Alibaba Cloud IoT" configuration profile: columns, coloring rules, filter buttons.
PROFILE_DIR ?= $(HOME)/.config/wireshark/profiles
install-profile:
	@mkdir -p "$(PROFILE_DIR)/Alibaba Cloud IoT"
	@cp "packaging/profile/Alibaba Cloud IoT/"* "$(PROFILE_DIR)/Alibaba Cloud IoT/"
	@echo "installed the profile in $(PROFILE_DIR)/Alibaba Cloud IoT (Edit › Configuration Profiles, or tshark -C \"Alibaba Cloud IoT\")"

run: install
	@echo
	@echo "== the tutorial device's session: tshark -r $(CAPTURE) -Y 'aliiot.device_name == \"lab-sensor-01\"'"
	@tshark -n -r $(CAPTURE) -o '$(SECRET)' -Y 'aliiot.device_name == "lab-sensor-01"'
	@echo
	@echo "== its login, as aliiot explains it: tshark -2 -O aliiot -Y 'mqtt.msgtype <= 2'"
	@tshark -n -2 -r $(CAPTURE) -o '$(SECRET)' -Y 'mqtt.msgtype <= 2' -O aliiot | grep -v '^\(Frame\|Ethernet\|Internet\|Transmission\|MQ Telemetry\) '

# Builds and runs the tshark suite against Wireshark 4.4 (Debian trixie) and 4.6 (sid) in
# debootstrap trees cached in $(ALIIOT_COMPAT_DIR) (default /var/cache/aliiot-compat), then each
# version's Debian package check, tests/valgrind.sh and tests/fuzz-captures.sh (FUZZ_N mutants per
# capture, default 2). Needs root.
compat:
	tests/compat.sh

# The real GUI: Wireshark (wireshark-qt) under Xvfb with the profile, the filter and the plugin;
# fails if Wireshark does not start or does not load the plugin; screenshots into $(GUI_OUT).
# Needs: wireshark-qt xvfb xdotool xclip imagemagick (optipng optional).
GUI_OUT ?= docs/screenshots
gui-check: build
	packaging/gui-check.sh $(PLUGIN) $(GUI_OUT)

# cargo-fuzz over every parser of the core, FUZZ_TIME seconds in all (tests/fuzz.sh says how to
# run long campaigns); a crash fails and is kept in tests/fuzz/artifacts/.
FUZZ_TIME ?= 60
fuzz:
	FUZZ_TIME=$(FUZZ_TIME) tests/fuzz.sh

# editcap -E mutants of every test capture through tshark with the plugin (-nr, -nVxr, -2);
# N mutants per capture. A crash saves the mutant in tests/fuzz-crashes/ and fails.
N ?= 3
fuzz-captures: build
	tests/fuzz-captures.sh $(PLUGIN) $(N)

# tshark with the plugin under valgrind over every test capture; fails on an error in aliiot.
valgrind: build
	tests/valgrind.sh $(PLUGIN)

# Benchmark against tshark without the plugin (and with --disable-protocol aliiot) on generated
# captures of $(BENCH_FRAMES) frames (bench/gen.py) and the same frames off MQTT's port;
# writes BENCHMARKS.md.
BENCH_FRAMES ?= 100000 1000000
bench: build
	bench/run.sh $(PLUGIN) $(BENCH_FRAMES)
	@if command -v valgrind >/dev/null; then \
	    { echo; echo "## Instruction counts (\`make bench-instructions\`)"; echo; \
	      echo "callgrind over the same modes at $(INSTR_FRAMES) frames: counts repeat where wall time does not (a"; \
	      echo "background thread of tshark still moves a total by about ±10 M between runs). The \", TSL\" rows"; \
	      echo "give aliiot a thing model for every product of the capture (-o aliiot.tsl_folder:<capture>-tsl,"; \
	      echo "written by bench/gen.py)."; echo; \
	      bench/instructions.sh $(PLUGIN) $(INSTR_FRAMES); } >> BENCHMARKS.md; fi
	@{ echo; echo "## The core alone (\`make bench-core\`)"; echo; echo '```'; \
	   $(CARGO) bench --locked --no-default-features --bench core 2>/dev/null; echo '```'; } >> BENCHMARKS.md
	@if [ "$$(id -u)" = 0 ] && [ -x "$(COMPAT_DIR)/trixie/usr/bin/tshark" ] && [ -x "$(COMPAT_DIR)/sid/usr/bin/tshark" ]; then \
	    INSTR_FRAMES=$(INSTR_FRAMES) ALIIOT_COMPAT_DIR=$(COMPAT_DIR) bench/compat.sh $(COMPAT_BENCH_FRAMES) >/dev/null; \
	else echo "make bench: no Wireshark 4.4/4.6 section (needs root and make compat's trees; then make bench-compat)"; fi

# make bench's measurements with Wireshark 4.4 and 4.6 in make compat's Debian trees (made when
# missing), at $(COMPAT_BENCH_FRAMES) frames (two sizes split aliiot's memory per packet and per
# connection), and their instruction counts (callgrind in each tree, at INSTR_FRAMES frames); writes
# BENCHMARKS.md's last section. Needs root.
COMPAT_DIR ?= $(or $(ALIIOT_COMPAT_DIR),/var/cache/aliiot-compat)
COMPAT_BENCH_FRAMES ?= 100000 1000000
bench-compat: deps
	INSTR_FRAMES=$(INSTR_FRAMES) ALIIOT_COMPAT_DIR=$(COMPAT_DIR) bench/compat.sh $(COMPAT_BENCH_FRAMES)

# Instruction counts (callgrind) per mode against tshark without the plugin: repeatable where
# wall time is not (shared or virtual machines). INSTR_FRAMES generated frames.
INSTR_FRAMES ?= 20000
bench-instructions: build
	bench/instructions.sh $(PLUGIN) $(INSTR_FRAMES)

# The core alone, without tshark (benches/core.rs): nanoseconds per MQTT packet on the first
# pass (nothing shown, items made) and on a later pass, over a synthetic capture.
bench-core:
	$(CARGO) bench --locked --no-default-features --bench core

# Regenerates docs/fields.md from `tshark -G fields` (make test checks it is current).
docs: deps
	ALIIOT_BLESS=1 $(CARGO) test --release --locked --test docs

clean:
	$(CARGO) clean
