// SPDX-License-Identifier: Apache-2.0

/// Logger metadata keys used by RegattaStore.
enum LogKey {
    static let backend = "store.backend"
    static let path = "store.path"
    static let schema = "store.schema"
    static let host = "store.host"
    static let migrationVersion = "store.migration.version"
    static let migrationName = "store.migration.name"
    static let error = "error"
}
