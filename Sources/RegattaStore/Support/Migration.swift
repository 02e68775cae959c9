// SPDX-License-Identifier: Apache-2.0

/// One step of a store's schema history, applied once, in its own transaction, and recorded in
/// `schema_migrations`.
///
/// - Important: Never edit or reorder a released migration; append a new one. A database records only the
///   version numbers it applied, so a changed migration would not run again where the old one already ran.
struct Migration: Sendable {
    /// The position of this step; versions start at `1` and increase by one.
    var version: Int
    /// A short description for logs.
    var name: String
    /// The statements to run, in order, inside the migration's transaction.
    var statements: [String]
}

extension Array where Element == Migration {
    /// The newest version in the list, or `0` for an empty list.
    var latestVersion: Int { self.map(\.version).max() ?? 0 }

    /// Throws unless versions run `1, 2, 3, …` without gaps or repeats; called by tests and at store creation.
    func checkOrdered(backend: String) throws {
        for (index, migration) in self.enumerated() where migration.version != index + 1 {
            throw StoreError(
                .queryFailed,
                "The \(backend) migration list is out of order at '\(migration.name)' (version \(migration.version), "
                    + "expected \(index + 1)); migrations must be numbered 1, 2, 3, … in order."
            )
        }
    }

    /// Throws ``StoreError/Code/schemaTooNew`` when the database has a migration this binary does not know.
    func checkNotNewer(than appliedVersions: Set<Int>, backend: String) throws {
        guard let newest = appliedVersions.max(), newest > self.latestVersion else { return }
        throw StoreError(
            .schemaTooNew,
            "The \(backend) store's schema is at version \(newest) but this Regatta knows only up to version "
                + "\(self.latestVersion); run a Regatta at least as new as the one that migrated the database."
        )
    }
}
