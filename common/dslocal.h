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

#define DSLOCAL_FIRST_UID 501

/* The user's uid: its record's own when users_dir holds name.plist with one, else the
 * lowest uid from 501 up that no record in users_dir has. A record that is not a
 * plist is an error (EX_DATAERR): its uid cannot be known to be free. */
int dslocal_pick_uid(const char *users_dir, const char *name, unsigned *uid);
/* The user's record. old: the existing record's bytes (or NULL), merged into: claw
 * sets what it owns (name, realname, home, shell, ShadowHashData, the ShadowHash
 * entry of authentication_authority; uid, gid, generateduid only when missing) and
 * keeps the rest (SecureToken, accountPolicyData, KerberosKeys, LinkedIdentity, the
 * picture). ShadowHashData is kept when it still holds this password, so a rerun
 * changes nothing. uuid_out receives the record's generateduid (37 bytes). */
int dslocal_user(const char *name, const char *password, unsigned uid, const char *old, size_t oldlen, char **out,
		 size_t *len, char uuid_out[37]);
/* The admin group with the user in users (GroupMembership) and groupmembers, once.
 * old: the existing group's bytes, or NULL for the group as macOS ships it. */
int dslocal_admin_group(const char *old, size_t oldlen, const char *name, const char *uuid, char **out, size_t *len);

#endif
