/* tart: manifests and configs in tart's shapes (tart's Sources/tart/OCI/Manifest.swift,
 * VMDirectory+OCI.swift, VMConfig.swift), through jansson. */
#include "tart.h"
#include "log.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define OCI_CONFIG_TYPE "application/vnd.oci.image.config.v1+json"
#define LAYERS_MAX 65536

static int not_tart(const char *why)
{
	return fail(EX_DATAERR, "not a tart VM image: %s", why);
}

static int blob_of(json_t *layer, struct tart_blob *out)
{
	const char *d = json_string_value(json_object_get(layer, "digest"));
	json_t *size = json_object_get(layer, "size");
	if (!oci_digest_ok(d) || !json_is_integer(size) || json_integer_value(size) < 0)
		return not_tart("a layer without a sha256 digest and a size");
	strcpy(out->digest, d);
	out->size = (uint64_t)json_integer_value(size);
	return 0;
}

/* The annotations tart puts on a disk layer: its uncompressed size and digest. */
static int chunk_of(json_t *layer, uint64_t offset, struct tart_chunk *out)
{
	if (blob_of(layer, &out->blob) < 0)
		return -1;
	json_t *a = json_object_get(layer, "annotations");
	const char *size = json_string_value(json_object_get(a, TART_UNCOMPRESSED_SIZE));
	const char *digest = json_string_value(json_object_get(a, TART_UNCOMPRESSED_DIGEST));
	uint64_t n;
	if (!size || parse_u64(size, &n) < 0 || n == 0 || n > TART_CHUNK)
		return not_tart("a disk layer without its uncompressed size (at most 512 MiB)");
	if (!oci_digest_ok(digest))
		return not_tart("a disk layer without its uncompressed sha256 digest");
	out->offset = offset;
	out->length = n;
	strcpy(out->raw_digest, digest);
	return 0;
}

static int one_of(int *count, json_t *layer, struct tart_blob *out)
{
	if (++*count > 1)
		return not_tart("more than one config or NVRAM layer");
	return blob_of(layer, out);
}

int tart_image_parse(json_t *m, struct tart_image *img)
{
	memset(img, 0, sizeof *img);
	const char *type = json_string_value(json_object_get(m, "mediaType"));
	json_t *layers = json_object_get(m, "layers");
	if (json_integer_value(json_object_get(m, "schemaVersion")) != 2 || (type && strcmp(type, OCI_MANIFEST_TYPE)))
		return not_tart("not an OCI image manifest");
	if (!json_is_array(layers) || json_array_size(layers) > LAYERS_MAX)
		return not_tart("no layers");
	int configs = 0, nvrams = 0;
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		const char *t = json_string_value(json_object_get(l, "mediaType"));
		int rc = 0;
		if (!t)
			rc = not_tart("a layer without a media type");
		else if (!strcmp(t, TART_DISK_V1_TYPE))
			rc = fail(EX_DATAERR, "the image's disk is in tart's old format (%s), which claw does not read; "
					      "push it again with a current tart", TART_DISK_V1_TYPE);
		else if (!strcmp(t, TART_CONFIG_TYPE))
			rc = one_of(&configs, l, &img->config);
		else if (!strcmp(t, TART_NVRAM_TYPE))
			rc = one_of(&nvrams, l, &img->nvram);
		else if (!strcmp(t, TART_DISK_TYPE)) {
			img->chunks = xrealloc(img->chunks, (img->nchunks + 1) * sizeof *img->chunks);
			rc = chunk_of(l, img->disk_size, &img->chunks[img->nchunks]);
			if (rc == 0) {
				img->disk_size += img->chunks[img->nchunks].length;
				img->compressed_size += img->chunks[img->nchunks++].blob.size;
			}
		}
		if (rc < 0) {
			tart_image_free(img);
			return -1;
		}
	}
	int rc = 0;
	if (configs != 1)
		rc = not_tart("no " TART_CONFIG_TYPE " layer");
	else if (nvrams != 1)
		rc = not_tart("no " TART_NVRAM_TYPE " layer");
	else if (img->nchunks == 0)
		rc = not_tart("no " TART_DISK_TYPE " layers");
	if (rc < 0)
		tart_image_free(img);
	return rc;
}

void tart_image_free(struct tart_image *img)
{
	free(img->chunks);
	img->chunks = NULL;
	img->nchunks = 0;
}

/* tart's display is in points unless its unit says pixels (then 72 ppi, as tart draws it);
 * points are pixels at 2x, claw's 144 ppi. Back the same way: 144 ppi and over as points. */
static unsigned ppi_of(const char *unit)
{
	return unit && !strcmp(unit, "px") ? 72 : 144;
}

int tart_config_to_claw(const char *text, size_t len, uint64_t disk_size, struct vmconfig *out)
{
	json_error_t err;
	json_t *t = json_loadb(text, len, 0, &err);
	if (!json_is_object(t)) {
		json_decref(t);
		return not_tart("its config layer is not a JSON object");
	}
	const char *os = json_string_value(json_object_get(t, "os"));
	const char *arch = json_string_value(json_object_get(t, "arch"));
	int rc;
	if ((os && strcmp(os, "darwin")) || (arch && strcmp(arch, "arm64"))) {
		rc = fail(EX_DATAERR, "the image is a %s/%s machine; claw runs darwin/arm64", os ? os : "darwin",
			  arch ? arch : "arm64");
	} else {
		json_t *d = json_object_get(t, "display");
		json_t *c = json_pack("{s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:I}",
				      "version", json_object_get(t, "version"),
				      "hardwareModel", json_object_get(t, "hardwareModel"),
				      "machineIdentifier", json_object_get(t, "ecid"),
				      "macAddress", json_object_get(t, "macAddress"),
				      "cpuCount", json_object_get(t, "cpuCount"),
				      "memorySize", json_object_get(t, "memorySize"),
				      "diskFormat", json_object_get(t, "diskFormat"),
				      "diskSize", (json_int_t)disk_size);
		if (d)
			json_object_set_new(c, "display", json_pack("{s:O*, s:O*, s:I}", "width", json_object_get(d, "width"),
								     "height", json_object_get(d, "height"), "ppi",
								     (json_int_t)ppi_of(json_string_value(json_object_get(d, "unit")))));
		rc = vmconfig_parse(c, "the image's tart config", out);
		json_decref(c);
	}
	json_decref(t);
	return rc;
}

char *tart_config_from_claw(const struct vmconfig *c, json_t *cj)
{
	/* tart will not go below its minimums; the ones Apple's restore images state for
	 * macOS (2 CPUs, 4 GiB) leave the puller room to shrink the machine. */
	unsigned cpu_min = c->cpu < 2 ? c->cpu : 2;
	uint64_t ram_min = c->ram < ((uint64_t)4 << 30) ? c->ram : (uint64_t)4 << 30;
	json_t *t = json_pack("{s:i, s:s, s:s, s:O, s:O, s:I, s:I, s:I, s:I, s:s, s:{s:I, s:I, s:s}, s:s}",
			      "version", 1, "os", "darwin", "arch", "arm64",
			      "ecid", json_object_get(cj, "machineIdentifier"),
			      "hardwareModel", json_object_get(cj, "hardwareModel"),
			      "cpuCountMin", (json_int_t)cpu_min, "cpuCount", (json_int_t)c->cpu,
			      "memorySizeMin", (json_int_t)ram_min, "memorySize", (json_int_t)c->ram,
			      "macAddress", c->mac,
			      "display", "width", (json_int_t)(c->width ? c->width : 1024), "height",
			      (json_int_t)(c->height ? c->height : 768), "unit", c->ppi >= 144 ? "pt" : "px",
			      "diskFormat", c->disk_format);
	if (!t)
		die(EX_SOFTWARE, "cannot encode tart's config");
	char *s = json_dumps(t, JSON_COMPACT);
	json_decref(t);
	return s;
}

char *tart_oci_config(const char *disk_format)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:{s:s}}}", "architecture", "arm64", "os", "darwin", "config", "Labels",
			      TART_DISK_FORMAT_LABEL, disk_format);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static json_t *layer(const char *type, const struct tart_blob *b)
{
	return json_pack("{s:s, s:I, s:s}", "mediaType", type, "size", (json_int_t)b->size, "digest", b->digest);
}

char *tart_manifest(const struct tart_blob *oci_config, const struct tart_image *img, const char *upload_time)
{
	json_t *layers = json_array();
	json_array_append_new(layers, layer(TART_CONFIG_TYPE, &img->config));
	for (size_t i = 0; i < img->nchunks; i++) {
		json_t *l = layer(TART_DISK_TYPE, &img->chunks[i].blob);
		char n[32];
		snprintf(n, sizeof n, "%" PRIu64, img->chunks[i].length);
		json_object_set_new(l, "annotations", json_pack("{s:s, s:s}", TART_UNCOMPRESSED_SIZE, n,
								TART_UNCOMPRESSED_DIGEST, img->chunks[i].raw_digest));
		json_array_append_new(layers, l);
	}
	json_array_append_new(layers, layer(TART_NVRAM_TYPE, &img->nvram));
	char size[32];
	snprintf(size, sizeof size, "%" PRIu64, img->disk_size);
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o, s:{s:s, s:s}}", "schemaVersion", 2,
			      "mediaType", OCI_MANIFEST_TYPE,
			      "config", "mediaType", OCI_CONFIG_TYPE, "size", (json_int_t)oci_config->size, "digest",
			      oci_config->digest,
			      "layers", layers,
			      "annotations", TART_DISK_SIZE, size, TART_UPLOAD_TIME, upload_time);
	char *s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	return s;
}
