// SPDX-License-Identifier: Apache-2.0

/// An error raised by a scheduler store: the database is unreachable, the configuration is wrong, or stored data
/// cannot be read.
///
/// `description` (the `message`) is safe to show to operators and API callers: it never contains passwords,
/// connection strings or SQL. `debugDescription` adds the code, the source location and the underlying cause.
public struct StoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidConfiguration, unavailable, invalidArgument, corruptData, schemaTooNew, queryFailed
        }
        private let base: Base

        /// The store URL, path or schema name is malformed; fix the configuration and restart.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The database cannot be reached or is busy (connection refused, timed out, locked, closed, disk full).
        /// Retrying later may succeed; an API answers 503.
        public static let unavailable = Code(base: .unavailable)
        /// The caller passed a value the store cannot save, such as an app without a `version`.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A stored row cannot be decoded into the model it should hold.
        public static let corruptData = Code(base: .corruptData)
        /// The database was migrated by a newer Regatta than this one.
        public static let schemaTooNew = Code(base: .schemaTooNew)
        /// The database rejected a statement for a reason other than availability (a bug or a manual schema change).
        public static let queryFailed = Code(base: .queryFailed)

        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed and how to fix it; safe to show to operators and API callers.
    public var message: String
    /// The error reported by the database driver, if any. Only shown in `debugDescription`.
    public var cause: (any Error & Sendable)?
    /// Where the error was raised, as `file:line`.
    public var location: String

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    /// Whether retrying the operation later may succeed; `true` exactly for ``Code/unavailable``.
    public var isRetryable: Bool { self.code == .unavailable }

    public var description: String { self.message }

    public var debugDescription: String {
        var text = "StoreError(\(self.code)) at \(self.location): \(self.message)"
        if let cause = self.cause {
            text += "\n  cause: \(String(reflecting: cause))"
        }
        return text
    }
}
