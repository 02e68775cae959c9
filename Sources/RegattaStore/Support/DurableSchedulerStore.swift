// SPDX-License-Identifier: Apache-2.0
import RegattaModel

/// A ``SchedulerStore`` backed by a database connection that lives as long as its `run()` call.
///
/// Start `run()` in a long-running task (a `ServiceGroup` service, ordered before everything that uses the store)
/// and cancel it to shut down.
///
/// - Important: `PostgresSchedulerStore` serves no query until `run()` is running; `SQLiteSchedulerStore`
///   works without it, and its `run()` only closes the database file on cancellation. Call `run()` at most once.
///   Inside a `ServiceGroup`, wrap it in `cancelWhenGracefulShutdown` so graceful shutdown ends it.
public protocol DurableSchedulerStore: SchedulerStore {
    /// Keeps the store's connections open until the calling task is cancelled, then closes them and returns.
    func run() async throws
}
