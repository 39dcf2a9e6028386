/* replay: a fuzz target run once over each file named, without libFuzzer. make check builds
 * every target with it and replays tests/fuzz/seeds/TARGET/ (which holds each input a fuzzer
 * once found), so a finding stays fixed; a crash, a sanitizer report or a failed check
 * ends the run. Prints one TAP line a file. */
#include "fuzz.h"
#include "util.h"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct buf b = BUF_ZERO;
		if (file_read(argv[i], 64 << 20, &b) < 0) {
			printf("not ok %d - cannot read %s\n", i, argv[i]);
			return 1;
		}
		/* An exact copy, so that reading one byte past the input is an ASan report here too. */
		uint8_t *data = malloc(b.len ? b.len : 1);
		if (!data)
			abort();
		memcpy(data, b.data, b.len);
		LLVMFuzzerTestOneInput(data, b.len);
		free(data);
		buf_free(&b);
		printf("ok %d - %s\n", i, argv[i]);
	}
	printf("1..%d\n", argc - 1);
	return 0;
}
