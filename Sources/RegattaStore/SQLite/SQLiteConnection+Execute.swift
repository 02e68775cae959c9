// SPDX-License-Identifier: Apache-2.0
import SQLiteNIO

extension SQLiteConnection {
    /// Runs a statement whose rows, if any, are not needed. Throws `CancellationError` if the task is cancelled
    /// before the statement starts.
    func execute(_ sql: String, _ binds: [SQLiteData] = []) async throws {
        _ = try await self.query(sql, binds)
    }

    /// Runs a statement even when the calling task is cancelled; for `ROLLBACK`, which must not be skipped.
    func executeDespiteCancellation(_ sql: String) async throws {
        // The future-based API ignores task cancellation; the async one would drop the work.
        _ = try await self.query(sql, []).get()
    }

    /// Closes the connection even when the calling task is cancelled; an unclosed connection traps on deinit.
    func closeDespiteCancellation() async throws {
        try await self.close().get()
    }
}
