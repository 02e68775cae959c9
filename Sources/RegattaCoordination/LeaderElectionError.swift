// SPDX-License-Identifier: Apache-2.0

/// Why a ``LeaderElection`` or ``LeaderCandidacy`` call failed.
public struct LeaderElectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case candidacyLost, sessionEnded, unavailable }
        private let base: Base

        /// The candidacy is gone (withdrawn, deleted, or its session ended); contend again to rejoin.
        public static let candidacyLost = Code(base: .candidacyLost)
        /// The session ended (expired, rejected, or closed); nothing of it can be used again.
        public static let sessionEnded = Code(base: .sessionEnded)
        /// The coordination service did not answer.
        public static let unavailable = Code(base: .unavailable)

        /// The code's name.
        public var description: String {
            switch self.base {
            case .candidacyLost: "candidacy lost"
            case .sessionEnded: "session ended"
            case .unavailable: "unavailable"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed and how to fix it.
    public var message: String

    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { self.message }
}
