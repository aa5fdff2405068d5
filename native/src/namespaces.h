/* The Linux namespaces the native parts name and join: one table for the exec helper (--ns, the
 * per-file fallback, its error reports), the addon's own thread and scope-fs. See namespaces.c. */
#ifndef SCOPE_NAMESPACES_H
#define SCOPE_NAMESPACES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct scope_namespace {
  const char *name; /* as /proc/PID/ns/ and `--ns` call it */
  int flag;         /* its CLONE_NEW* */
};

/* In the order in which they are joined one by one: see namespaces.c for why. */
enum { SCOPE_NAMESPACE_COUNT = 8 };
extern const struct scope_namespace SCOPE_NAMESPACES[SCOPE_NAMESPACE_COUNT];

/* Room for every name, comma-separated, and for a hex number of flags the table does not know. */
enum { SCOPE_NAMESPACE_NAMES_MAX = 64 };

/* The CLONE_NEW* flag of the namespace called `name`, or 0 for a name the table does not have. */
int scope_namespace_flag(const char *name);

/* The names of the namespaces in `flags`, comma-separated in the table's order ("ipc,net"), written
 * to `buf` (SCOPE_NAMESPACE_NAMES_MAX bytes fit any flags); bits of no namespace are added in hex.
 * Returns `buf`. */
const char *scope_namespace_names(int flags, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
