# tests/darwin-model: a model of the Objective-C runtime, GCD, Foundation and Virtualization.framework
# on which common/darwin/*.c builds and runs on Linux (README.md there). Included by the Makefile.
#   $(MODEL_LIB)    the model, to link a client built with $(MODEL_CFLAGS) (-DCLAW_DARWIN_MODEL)
#   model           the library and the model's own test programs
#   check-model     those tests (tests/darwin-model.bats)
MODEL_CC     = clang
MODEL_O      = $(O)/model
MODEL_SRC    = $(wildcard tests/darwin-model/*.c)
MODEL_OBJ    = $(MODEL_SRC:tests/darwin-model/%.c=$(MODEL_O)/%.o)
MODEL_LIB    = $(MODEL_O)/libvzmodel.a
MODEL_CFLAGS = -std=c11 -g -O1 -fblocks -pthread -D_GNU_SOURCE -DCLAW_DARWIN_MODEL -iquote common \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
MODEL_LIBS   = -lBlocksRuntime -lcrypto -lpthread
ifeq ($(SANITIZE),1)
MODEL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
MODEL_LIBS   += -fsanitize=address,undefined
endif
MODEL_TEST_SRC = $(wildcard tests/darwin-model/tests/*.c)
MODEL_TESTS    = $(MODEL_TEST_SRC:tests/darwin-model/tests/%.c=$(MODEL_O)/tests/%)

$(MODEL_O)/%.o: tests/darwin-model/%.c tests/darwin-model/model.h common/darwin/objc.h
	@mkdir -p $(@D)
	$(MODEL_CC) $(MODEL_CFLAGS) -c -o $@ $<

$(MODEL_LIB): $(MODEL_OBJ)
	rm -f $@
	ar rcs $@ $^

$(MODEL_O)/tests/%: tests/darwin-model/tests/%.c tests/darwin-model/tests/client.h common/darwin/objc.h $(MODEL_LIB)
	@mkdir -p $(@D)
	$(MODEL_CC) $(MODEL_CFLAGS) -iquote tests/darwin-model/tests -o $@ $< $(MODEL_LIB) $(MODEL_LIBS)

model: $(MODEL_LIB) $(MODEL_TESTS)

check-model: model
	CLAW_MODEL_BIN=$(CURDIR)/$(MODEL_O)/tests bats tests/darwin-model.bats

.PHONY: model check-model
