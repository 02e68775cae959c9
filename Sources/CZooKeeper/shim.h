// SPDX-License-Identifier: Apache-2.0
#ifndef REGATTA_CZOOKEEPER_SHIM_H
#define REGATTA_CZOOKEEPER_SHIM_H

#include <zookeeper/zookeeper.h>

/// The ACL for nodes created without credentials: anyone may do anything (`ZOO_OPEN_ACL_UNSAFE`).
/// A function, so Swift never touches the library's mutable global directly.
static inline const struct ACL_vector *regatta_zoo_open_acl(void) {
    return &ZOO_OPEN_ACL_UNSAFE;
}

/// The ACL for nodes created by a client holding digest credentials: anyone may read, only the creator's
/// authenticated identity may write or delete (Mesos's `EVERYONE_READ_CREATOR_ALL`). Read-only constant data.
static inline const struct ACL_vector *regatta_zoo_world_read_creator_all_acl(void) {
    static struct ACL acls[2] = {
        {1 /* ZOO_PERM_READ */, {(char *)"world", (char *)"anyone"}},
        {0x1f /* ZOO_PERM_ALL */, {(char *)"auth", (char *)""}},
    };
    static struct ACL_vector vector = {2, acls};
    return &vector;
}

#endif
