// SPDX-License-Identifier: Apache-2.0

/// An error of the agent simulator: a code, a message that says what failed and how to fix it, and where.
public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidConfiguration, masterRejected, alreadyRunning, timedOut
        }
        private let base: Base

        /// A setting is malformed.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The master answered a call with an error status.
        public static let masterRejected = Code(base: .masterRejected)
        /// `run()` was called on a simulator that already runs or ran.
        public static let alreadyRunning = Code(base: .alreadyRunning)
        /// A wait did not see its condition before its deadline.
        public static let timedOut = Code(base: .timedOut)

        public var description: String {
            switch self.base {
            case .invalidConfiguration: "invalid configuration"
            case .masterRejected: "master rejected the call"
            case .alreadyRunning: "already running"
            case .timedOut: "timed out"
            }
        }
    }

    public var code: Code
    public var message: String
    /// `#fileID:#line` where the error was made.
    public var location: String

    public init(_ code: Code, _ message: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.location = "\(fileID):\(line)"
    }

    public var description: String { "\(self.code): \(self.message)" }
}
