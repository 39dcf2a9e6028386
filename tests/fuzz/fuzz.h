/* fuzz: what every target under tests/fuzz shares. Each fuzz_NAME.c is one libFuzzer target
 * (make fuzz builds it with -fsanitize=fuzzer,address,undefined) over one reader of outside
 * input; replay.c runs the same target over files, without libFuzzer, for make check. A
 * crash, a leak, a sanitizer report, a hang or an abort() of a target's own check is a
 * finding; the readers' own errors (fail()) are answers, not findings. */
#ifndef CLAW_FUZZ_H
#define CLAW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string, for readers that take one (cut at its first NUL, as they would be). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A target's own check failed: say which, and abort so the fuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
