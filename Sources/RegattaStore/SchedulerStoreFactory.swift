// SPDX-License-Identifier: Apache-2.0
import Logging

/// Builds the scheduler store a `--store` URL names.
///
/// ```swift
/// let store = try SchedulerStoreFactory.make(url: "sqlite:///var/lib/regatta/scheduler.db", logger: logger)
/// // run `store.run()` as a service, then:
/// try await store.migrate()
/// ```
public enum SchedulerStoreFactory {
    /// Creates the store for `url`; see ``StoreLocation`` for the accepted forms.
    ///
    /// Nothing is opened or connected yet: start the store's `run()` (required for PostgreSQL) and call
    /// `migrate()` before using it.
    /// - Throws: ``StoreError/Code/invalidConfiguration`` for a malformed URL, naming the accepted forms.
    public static func make(url: String, logger: Logger) throws -> any DurableSchedulerStore {
        try self.make(StoreLocation(url: url), logger: logger)
    }

    /// Creates the store for an already parsed location.
    public static func make(_ location: StoreLocation, logger: Logger) throws -> any DurableSchedulerStore {
        switch location {
        case .postgres(let configuration):
            if configuration.tls != .require && !Self.isLoopback(configuration.host) {
                // `prefer` falls back to plain TCP silently: the password and every app definition could cross the
                // network in the clear.
                logger.warning(
                    "The store's PostgreSQL server is not on this machine and sslmode=require is not set; the connection may be plaintext. Add ?sslmode=require to --store.",
                    metadata: ["store.host": "\(configuration.host):\(configuration.port)"]
                )
            }
            return try PostgresSchedulerStore(configuration: configuration, logger: logger)
        case .sqlite(let configuration):
            return SQLiteSchedulerStore(configuration: configuration, logger: logger)
        }
    }

    /// Whether `host` is this machine: `localhost`, `127.0.0.0/8` or `::1`.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host.hasPrefix("127.") || host.hasSuffix(".localhost")
    }
}
