// SPDX-License-Identifier: Apache-2.0

/// An error raised by the service scheduler. `message` is safe to show to API callers.
public struct SchedulerError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case appNotFound, appExists, appLocked, invalidApp, invalidJSON, taskNotFound, masterUnavailable
            case storeUnavailable, notLeader, bodyTooLarge
        }
        private let base: Base
        /// No app with the given id (404).
        public static let appNotFound = Code(base: .appNotFound)
        /// An app with the id exists already (409).
        public static let appExists = Code(base: .appExists)
        /// The app is in a deployment and `force` was not given (409).
        public static let appLocked = Code(base: .appLocked)
        /// The app definition broke validation rules (422).
        public static let invalidApp = Code(base: .invalidApp)
        /// The body is not valid JSON or has wrong types (400).
        public static let invalidJSON = Code(base: .invalidJSON)
        /// No task with the given id (404).
        public static let taskNotFound = Code(base: .taskNotFound)
        /// The master cannot be reached or refused a call.
        public static let masterUnavailable = Code(base: .masterUnavailable)
        /// The store cannot be reached (503).
        public static let storeUnavailable = Code(base: .storeUnavailable)
        /// This scheduler is not the leader.
        public static let notLeader = Code(base: .notLeader)
        /// The request body is larger than the API accepts (413).
        public static let bodyTooLarge = Code(base: .bodyTooLarge)
        public var description: String { self.base.rawValue }
    }

    public var code: Code
    public var message: String
    /// For 422 and 400: the violations by JSON path.
    public var details: [ValidationViolation]
    /// For 409 locked: the blocking deployment ids.
    public var deploymentIDs: [String]
    public var cause: (any Error & Sendable)?
    public var location: String

    public init(
        _ code: Code,
        _ message: String,
        details: [ValidationViolation] = [],
        deploymentIDs: [String] = [],
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.details = details
        self.deploymentIDs = deploymentIDs
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    public var description: String { "\(self.code): \(self.message)" }
}
