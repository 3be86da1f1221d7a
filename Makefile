# luagate -- build, test, bench, deps, run.  `make deps run` and `make test`.
VERSION   := 0.1.0
CC        ?= cc
PKGS      := lua5.4 libevent libevent_pthreads libevent_openssl rdkafka librabbitmq libnats \
             hiredis libpq libmariadb libcurl libcjson openssl
# SAN=1 builds with ASan+UBSan into build/asan (make asan).
ifeq ($(SAN),1)
OUT       ?= build/asan
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT       := -O1 -g
else
OUT       ?= build/release
OPT       := -O2 -g
endif
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC $(OPT) $(SANFLAGS) \
             -DLUAGATE_VERSION='"$(VERSION)"' -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS    := $(shell pkg-config --libs $(PKGS)) -lpaho-mqtt3as -lhighwayhash -lhttp_parser -lpthread -lm
LDFLAGS   += $(SANFLAGS)

HOST_SRC  := $(filter-out src/main.c src/lmodule.c,$(wildcard src/*.c))
DRV_SRC   ?= $(wildcard targets/*.c)
CXX_SRC   ?= $(wildcard targets/*.cc)
OBJS      := $(patsubst %.c,$(OUT)/%.o,$(HOST_SRC) $(DRV_SRC)) $(patsubst %.cc,$(OUT)/%.o,$(CXX_SRC))
BIN       := $(OUT)/luagate
SO        := $(OUT)/luagate.so
UNIT_SRC  ?= $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRC))
ITEST_SRC ?= $(wildcard tests/integration/test_*.c)
ITEST_BIN := $(patsubst tests/integration/%.c,$(OUT)/itests/%,$(ITEST_SRC))
PEER_SRC  ?= $(wildcard tests/peers/*.c)
PEER_BIN  := $(patsubst tests/peers/%.c,$(OUT)/peers/%,$(PEER_SRC))

.PHONY: all deps run test unit asan bench drills fuzz docs container clean
all: $(BIN) $(SO) $(UNIT_BIN) $(ITEST_BIN) $(PEER_BIN)
ifeq ($(OUT),build/release)
	@ln -sf $(BIN) luagate; ln -sf $(SO) luagate.so
endif

$(OUT)/%.o: %.c $(wildcard src/*.h targets/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(OUT)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) -O2 -g -fPIC $(SANFLAGS) -c -o $@ $<

$(BIN): $(OUT)/src/main.o $(OBJS)
	@echo "  LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lstdc++

$(SO): $(OUT)/src/lmodule.o $(OBJS)
	@echo "  LD $@"
	@$(CC) -shared $(LDFLAGS) -o $@ $^ $(filter-out -llua5.4,$(LDLIBS)) -lstdc++

$(OUT)/tests/%: tests/unit/%.c $(OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(OBJS) $(LDLIBS) -lstdc++

$(OUT)/itests/%: tests/integration/%.c $(OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(OBJS) $(LDLIBS) -lstdc++

$(OUT)/peers/%: tests/peers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

deps:
	bash scripts/deps.sh

run: all
	./luagate -c examples/luagate.conf.lua

# The whole suite: release build (unit, busted specs, real servers), then
# the same under ASan+UBSan.
test: all
	LUAGATE_BUILD=$(OUT) bash tests/run.sh unit valgrind spec integration
	$(MAKE) asan

unit: all
	LUAGATE_BUILD=$(OUT) bash tests/run.sh unit

asan:
	$(MAKE) SAN=1 all
	LUAGATE_BUILD=build/asan LUAGATE_SAN=1 bash tests/run.sh

bench: all
	bash bench/run.sh
	bash bench/targets.sh
	bash bench/scale.sh

# Reliability drills (kill -9 cycles, outages, overload, poison, corruption).
drills: all
	bash drills/run.sh

# libFuzzer targets, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz:
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# The configuration reference, generated from the drivers' key tables.
docs: $(BIN)
	$(BIN) docs > docs/configuration.md

container:
	bash tests/container/build.sh

clean:
	rm -rf build luagate luagate.so
