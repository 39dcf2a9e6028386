# claw — build, install, check.  `make`, `make check`, `make install PREFIX=... DESTDIR=...`
VERSION   = 0.1.0

# Packager knobs
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share
BASHCOMPDIR ?= $(SHAREDIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(SHAREDIR)/zsh/site-functions
FISHCOMPDIR ?= $(SHAREDIR)/fish/vendor_completions.d
FISHFUNCDIR ?= $(SHAREDIR)/fish/vendor_functions.d
DESTDIR  ?=
CC       ?= cc
CFLAGS   ?= -O2 -g
PKG_CONFIG ?= pkg-config

UNAME := $(shell uname -s)
PKGS   = yaml-0.1 libcurl libplist-2.0 libcrypto jansson liblz4
override CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers -pthread -iquote common -DCLAW_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(PKGS)) -lpthread
ifeq ($(UNAME),Darwin)
# Apple silicon and macOS 14 or later, what claw runs on: an x86_64 build would run under
# Rosetta, where Virtualization.framework has no VZMac* class (common/darwin/VZ-API.md §12.12).
override CFLAGS += -D_DARWIN_C_SOURCE -arch arm64 -mmacosx-version-min=14.0
override LDFLAGS += -arch arm64 -mmacosx-version-min=14.0
else
override CFLAGS += -D_GNU_SOURCE
endif

# make check SANITIZE=1: a separate tree built with ASan+UBSan.
ifeq ($(SANITIZE),1)
O       = build/san
override CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
B       = $(O)/bin
else
O       = build/obj
B       = bin
endif

COMMON_SRC := $(filter-out common/vm_none.c,$(wildcard common/*.c))
EMBED_OBJ  := $(O)/common/default_config.o $(O)/common/guest_firstboot.o \
	      $(O)/common/guest_firstboot_plist.o
COMMON_OBJ := $(COMMON_SRC:common/%.c=$(O)/common/%.o) $(EMBED_OBJ)
CMDS       := $(patsubst cmd/%.c,%,$(wildcard cmd/claw-*.c))
PROGS      := $(CMDS:%=$(B)/%) $(B)/claw
MAN1       := $(wildcard man/man1/*.1)
MAN5       := $(wildcard man/man5/*.5)
MAN7       := $(wildcard man/man7/*.7)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/unit/%) $(O)/unit/sinkfetch \
	      $(patsubst tests/fuzz/fuzz_%.c,$(O)/unit/replay-%,$(wildcard tests/fuzz/fuzz_*.c))

all: $(PROGS)

$(O)/common/%.o: common/%.c common/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The default config is compiled in, so claw works with no file at all.
define embed
	@mkdir -p $(@D)
	{ echo '/* generated from $< */'; \
	  echo 'const char $(1)[] = {'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; } > $@
endef

$(O)/common/default_config.c: share/claw/claw.yml
	$(call embed,claw_default_config)

# What claw-inject writes into the guest, kept as files so shellcheck and plutil can read them.
$(O)/common/guest_firstboot.c: share/claw/guest/claw-firstboot.sh
	$(call embed,claw_guest_firstboot)

$(O)/common/guest_firstboot_plist.c: share/claw/guest/com.claw.firstboot.plist
	$(call embed,claw_guest_firstboot_plist)

$(EMBED_OBJ): %.o: %.c
	$(CC) $(filter-out -Wmissing-prototypes,$(CFLAGS)) -Wno-missing-variable-declarations -c -o $@ $<

$(O)/libclaw.a: $(COMMON_OBJ)
	rm -f $@
	ar rcs $@ $^

$(O)/cmd/%.o: cmd/%.c common/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/claw-%: $(O)/cmd/claw-%.o $(O)/libclaw.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# claw-restore, claw-boot and claw-resolve (which asks which macOS the host can run) link one
# implementation of common/vm.h: Virtualization.framework on macOS (signed ad hoc with the
# virtualization entitlement after every link), and on other hosts the one that says it needs
# macOS. The test builds link the fake from tests/fakes.
VM_CMDS := claw-restore claw-boot claw-resolve
ifeq ($(UNAME),Darwin)
VM_IMPL := $(patsubst common/darwin/%.c,$(O)/darwin/%.o,$(wildcard common/darwin/*.c))
VM_LIBS := -framework Virtualization -framework Foundation -lobjc
VM_SIGN  = codesign --force --sign - --entitlements share/claw/claw.entitlements $@
else
VM_IMPL := $(O)/common/vm_none.o
VM_LIBS :=
VM_SIGN  = :
endif

$(O)/darwin/%.o: common/darwin/%.c common/darwin/*.h common/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fblocks -c -o $@ $<

$(VM_CMDS:%=$(B)/%): $(B)/%: $(O)/cmd/%.o $(VM_IMPL) $(O)/libclaw.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(VM_LIBS)
	$(VM_SIGN)

FAKE_B := $(O)/fake/bin
$(O)/fake/vm_fake.o: tests/fakes/vm_fake.c common/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(VM_CMDS:%=$(FAKE_B)/%): $(FAKE_B)/%: $(O)/cmd/%.o $(O)/fake/vm_fake.o $(O)/libclaw.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fakes: $(VM_CMDS:%=$(FAKE_B)/%)

# The model of the ObjC runtime, GCD, Foundation and VZ that common/darwin runs on here.
include tests/darwin-model/model.mk

# claw-resolve on the model: common/darwin/vz.c's own vm_latest_supported runs in make check.
MODEL_B := $(MODEL_O)/bin
$(MODEL_O)/darwin/%.o: common/darwin/%.c common/darwin/*.h common/*.h
	@mkdir -p $(@D)
	$(MODEL_CC) $(MODEL_CFLAGS) -c -o $@ $<

$(MODEL_B)/claw-resolve: $(O)/cmd/claw-resolve.o $(MODEL_O)/darwin/vz.o $(O)/libclaw.a $(MODEL_LIB)
	@mkdir -p $(@D)
	$(MODEL_CC) $(LDFLAGS) -o $@ $^ $(MODEL_LIBS) $(LDLIBS)

model: $(MODEL_B)/claw-resolve

$(B)/claw: cmd/claw
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/' cmd/claw > $@
	chmod 0755 $@

$(O)/unit/%: tests/unit/%.c tests/unit/tap.h $(O)/libclaw.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -iquote tests/unit $(LDFLAGS) -o $@ $< $(O)/libclaw.a $(LDLIBS)

units: $(UNIT_BIN)

# Everything: unit tests, bats suites (common/darwin on the model too), man lint, shellcheck, the Darwin compile check.
check: all units fakes model darwin
	@CLAW_BIN=$(CURDIR)/$(B) CLAW_FAKE_BIN=$(CURDIR)/$(FAKE_B) CLAW_UNIT=$(CURDIR)/$(O)/unit \
		CLAW_MODEL_BIN=$(CURDIR)/$(MODEL_O)/tests CLAW_VZ_BIN=$(CURDIR)/$(VZ_B) SANITIZE=$(SANITIZE) sh tests/run

deps:
	sh tests/helpers/deps.sh

# make chaos N=200: claw create killed at N random moments, each rerun to the clean run's bundle
# (tests/chaos.bats; make check runs 10). CLAW_CHAOS_SEED=S replays a run.
N ?= 100
chaos: all fakes
	CLAW_BIN=$(CURDIR)/$(B) CLAW_FAKE_BIN=$(CURDIR)/$(FAKE_B) CLAW_CHAOS_ROUNDS=$(N) python3 tests/helpers/reaper.py /dev/null bats tests/chaos.bats

lint:
	sh tests/run --lint-only

# make fuzz: every reader of outside input, each a libFuzzer target of its own (tests/fuzz/
# fuzz_TARGET.c, listed with its seeds and dictionary in tests/fuzz/targets), built with clang
# under ASan and UBSan (a UB report is a crash) and run one after another; then a table of each
# target's executions, seconds and findings. A finding stops its target, is kept in
# build/fuzz/findings/TARGET/, and makes make fuzz fail; replay it with
# build/fuzz/bin/fuzz-TARGET FILE, then add it to tests/fuzz/seeds/TARGET/, which make check
# replays (tests/fuzz.bats). The corpus grows in build/fuzz/corpus/TARGET/ from run to run.
#   make fuzz                                  every target for FUZZ_SECONDS (60) each
#   make fuzz FUZZ_TARGETS="config http"       some of them
#   nice -n 19 make fuzz FUZZ_RUNS=10000000    each to 10 million executions (the README's figures)
#   FUZZ_TIMEOUT=60                            seconds an input may take before it is a finding (5):
#                                              on a machine busy with other work, a stall is not a hang
# Fuzz builds define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: PBKDF2 runs one round (shadowhash.c).
FUZZ_TARGETS ?= $(shell grep -v '^\#' tests/fuzz/targets | cut -d' ' -f1)
FUZZ_RUNS ?=
FUZZ_SECONDS ?= $(if $(FUZZ_RUNS),,60)
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
fuzz:
	$(MAKE) CC=clang O=build/fuzz B=build/fuzz/bin SANITIZE= CFLAGS='$(FUZZ_CFLAGS)' \
		$(FUZZ_TARGETS:%=build/fuzz/bin/fuzz-%)
	FUZZ_RUNS='$(FUZZ_RUNS)' FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_TIMEOUT='$(FUZZ_TIMEOUT)' sh tests/fuzz/run build/fuzz/bin $(FUZZ_TARGETS)

$(B)/fuzz-%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(O)/libclaw.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -iquote tests/fuzz $(LDFLAGS) -o $@ $< $(O)/libclaw.a $(LDLIBS)

# The same targets without libFuzzer, run over files: make check replays the seeds with them.
$(O)/unit/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(O)/libclaw.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -iquote tests/fuzz $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(O)/libclaw.a $(LDLIBS)

bench: all fakes
	CLAW_BIN=$(CURDIR)/$(B) CLAW_FAKE_BIN=$(CURDIR)/$(FAKE_B) bash tests/bench/run $(BENCH)

install: install-bin install-man install-completions install-share

install-bin: all
	mkdir -p $(DESTDIR)$(BINDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/

install-man:
	mkdir -p $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/

install-completions:
	mkdir -p $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(FISHFUNCDIR)
	for f in completions/bash/*; do install -m 0644 $$f $(DESTDIR)$(BASHCOMPDIR)/; done
	for f in completions/zsh/*; do install -m 0644 $$f $(DESTDIR)$(ZSHCOMPDIR)/; done
	for f in completions/fish/*.fish; do install -m 0644 $$f $(DESTDIR)$(FISHCOMPDIR)/; done
	for f in completions/fish/functions/*.fish; do install -m 0644 $$f $(DESTDIR)$(FISHFUNCDIR)/; done

install-share:
	mkdir -p $(DESTDIR)$(SHAREDIR)/claw
	cd share/claw && find . -type d -exec mkdir -p "$(DESTDIR)$(SHAREDIR)/claw/{}" \;
	cd share/claw && find . -type f -exec install -m 0644 {} "$(DESTDIR)$(SHAREDIR)/claw/{}" \;

clean:
	rm -rf bin build

.PHONY: all units fakes check deps chaos lint fuzz bench install install-bin install-man install-completions install-share clean
.SECONDARY:
