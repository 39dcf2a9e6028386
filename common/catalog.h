/* catalog: which IPSW a version spec means. Reads Apple's macOS IPSW catalog
 * (the plist VZMacOSRestoreImage.fetchLatestSupported reads) and ipsw.me v4
 * device JSON, and makes resolve records (record.h) of what it finds.
 * Pure functions over bytes: no network, never prints. */
#ifndef CLAW_CATALOG_H
#define CLAW_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CATALOG_DEVICE "VirtualMac2,1"
#define CATALOG_URL_DEFAULT "https://mesu.apple.com/assets/macos/com_apple_macOSIPSW/com_apple_macOSIPSW.xml"
#define IPSWME_URL_DEFAULT "https://api.ipsw.me/v4"

enum spec_kind { SPEC_BAD, SPEC_LATEST, SPEC_VERSION, SPEC_BUILD, SPEC_URL, SPEC_FILE };

enum spec_kind spec_classify(const char *spec);
/* -1, 0, 1 comparing dotted versions numerically ("15.10" > "15.9"). */
int version_compare(const char *a, const char *b);
/* "15" matches 15 and 15.x; "15.2" matches 15.2 and 15.2.x, not 15.20. */
bool version_matches(const char *prefix, const char *version);
/* -1, 0, 1 comparing builds: 24C101 > 24C99 > 24B5 > 23Z1. */
int build_compare(const char *a, const char *b);

/* The newest VirtualMac2,1 restore in the catalog; its SHA-1 is taken from any
 * entry with the same FirmwareURL, since the VirtualMac2,1 one has none. */
int catalog_latest(const char *data, size_t len, json_t **rec);
/* The restore the catalog lists at url (what VZ's fetchLatestSupported names), its SHA-1 by URL
 * as above; EX_UNAVAILABLE when the catalog does not list it. */
int catalog_by_url(const char *data, size_t len, const char *url, json_t **rec);
/* Is record a of a newer macOS than record b (by version, then build)? */
bool catalog_record_newer(json_t *a, json_t *b);
/* From GET /v4/device/VirtualMac2,1: the highest signed firmware whose version
 * matches spec, or the build spec names. Nothing found: EX_UNAVAILABLE, listing what exists. */
int ipswme_select(const char *data, size_t len, const char *spec, json_t **rec);
/* What a URL or file name says about itself (UniversalMac_26.1_25B78_Restore.ipsw). */
void record_guess_from_name(json_t *rec, const char *name);

#endif
