/* leases: the DHCP lease file and arp output, read for one MAC. */
#include "leases.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mac_parse(const char *s, struct mac *out)
{
	for (int i = 0; i < 6; i++) {
		int digits = 0, v = 0;
		while (isxdigit((unsigned char)*s) && digits < 2) {
			v = v * 16 + (isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10);
			s++, digits++;
		}
		if (!digits)
			return false;
		out->b[i] = (unsigned char)v;
		if (i < 5 && *s != ':' && *s != '-')
			return false;
		if (i < 5)
			s++;
	}
	return *s == '\0';
}

void mac_format(const struct mac *m, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2], m->b[3], m->b[4], m->b[5]);
}

struct block {
	int line;
	char ip[64];
	char hw[128];
	bool has_lease;
	time_t lease;
};

static void consider(const struct block *bl, const struct mac *mac, time_t now, struct lease_hit *hit,
		     void (*bad)(int, const char *, void *), void *arg)
{
	if (!bl->ip[0] || !bl->hw[0] || !bl->has_lease) {
		bad(bl->line, !bl->ip[0] ? "no ip_address" : !bl->hw[0] ? "no hw_address" : "no lease", arg);
		return;
	}
	/* hw_address=TYPE,ADDRESS: type 1 is Ethernet; anything else is a client id, never a MAC. */
	if (strncmp(bl->hw, "1,", 2))
		return;
	struct mac m;
	if (!mac_parse(bl->hw + 2, &m)) {
		bad(bl->line, "hw_address is not a MAC", arg);
		return;
	}
	if (memcmp(m.b, mac->b, 6))
		return;
	if (bl->lease < now) {
		hit->expired++;
		return;
	}
	if (!hit->found || bl->lease > hit->expiry) {
		snprintf(hit->ip, sizeof hit->ip, "%s", bl->ip);
		hit->expiry = bl->lease;
		hit->found = true;
	}
}

static void set_field(struct block *bl, const char *key, const char *val)
{
	if (!strcmp(key, "ip_address"))
		snprintf(bl->ip, sizeof bl->ip, "%s", val);
	else if (!strcmp(key, "hw_address"))
		snprintf(bl->hw, sizeof bl->hw, "%s", val);
	else if (!strcmp(key, "lease")) {
		char *end;
		long long v = strtoll(val, &end, 16);
		bl->has_lease = *val && !*end;
		bl->lease = (time_t)v;
	}
}

void leases_find(const char *text, size_t len, const struct mac *mac, time_t now, struct lease_hit *hit,
		 void (*bad)(int line, const char *why, void *arg), void *arg)
{
	memset(hit, 0, sizeof *hit);
	char *copy = xstrndup(text, len), *line = copy;
	struct block bl;
	bool open = false;
	for (int n = 1; line; n++) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		s[strcspn(s, "\r")] = '\0';
		if (!strcmp(s, "{")) {
			if (open)
				bad(bl.line, "block not closed", arg);
			memset(&bl, 0, sizeof bl);
			bl.line = n;
			open = true;
		} else if (!strcmp(s, "}")) {
			if (open)
				consider(&bl, mac, now, hit, bad, arg);
			else
				bad(n, "'}' without '{'", arg);
			open = false;
		} else if (*s && *s != '#') {
			char *eq = strchr(s, '=');
			if (!open || !eq)
				bad(n, open ? "expected key=value" : "text outside a block", arg);
			else {
				*eq = '\0';
				set_field(&bl, s, eq + 1);
			}
		}
		line = next;
	}
	if (open)
		bad(bl.line, "block not closed (truncated file?)", arg);
	free(copy);
}

bool arp_find(const char *text, const struct mac *mac, char ip[64])
{
	/* "? (192.168.64.3) at ee:a7:85:9:92:39 on bridge100 ifscope [bridge]" */
	char *copy = xstrdup(text), *save = NULL;
	bool found = false;
	for (char *line = strtok_r(copy, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char *open = strchr(line, '('), *close = open ? strchr(open, ')') : NULL, *at = close ? strstr(close, " at ") : NULL;
		if (!at)
			continue;
		char hw[64];
		if (sscanf(at + 4, "%63s", hw) != 1 || hw[0] == '(')
			continue;
		struct mac m;
		if (mac_parse(hw, &m) && !memcmp(m.b, mac->b, 6) && close - open - 1 < 64) {
			memcpy(ip, open + 1, (size_t)(close - open - 1));
			ip[close - open - 1] = '\0';
			found = true;
		}
	}
	free(copy);
	return found;
}
