/* dslocal: the local directory's records as macOS stores them under
 * private/var/db/dslocal/nodes/Default — a user record (every attribute an
 * array, as opendirectoryd writes it) and the admin group, merged rather than
 * replaced. Binary plists through libplist. Never prints. */
#ifndef CLAW_DSLOCAL_H
#define CLAW_DSLOCAL_H

#include <stdbool.h>
#include <stddef.h>

#define DSLOCAL_USERS "private/var/db/dslocal/nodes/Default/users"
#define DSLOCAL_GROUPS "private/var/db/dslocal/nodes/Default/groups"
#define DSLOCAL_UID 501
#define DSLOCAL_STAFF_GID 20
#define DSLOCAL_ADMIN_GID 80

/* The user's record. old: the existing record's bytes (or NULL): its generateduid is
 * kept, and its ShadowHashData too when it still holds this password, so a rerun
 * changes nothing. uuid_out receives the record's generateduid (37 bytes). */
int dslocal_user(const char *name, const char *password, const char *old, size_t oldlen, char **out, size_t *len,
		 char uuid_out[37]);
/* The admin group with the user in users (GroupMembership) and groupmembers, once.
 * old: the existing group's bytes, or NULL for the group as macOS ships it. */
int dslocal_admin_group(const char *old, size_t oldlen, const char *name, const char *uuid, char **out, size_t *len);

#endif
