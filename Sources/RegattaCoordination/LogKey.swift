// SPDX-License-Identifier: Apache-2.0

/// Metadata keys this module logs with.
enum LogKey {
    static let master = "master.address"
}
