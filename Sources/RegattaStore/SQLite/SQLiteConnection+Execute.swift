// SPDX-License-Identifier: Apache-2.0
import SQLiteNIO

extension SQLiteConnection {
    /// Runs a statement whose rows, if any, are not needed.
    func execute(_ sql: String, _ binds: [SQLiteData] = []) async throws {
        _ = try await self.query(sql, binds)
    }
}
