// SPDX-License-Identifier: Apache-2.0

/// An error of a benchmark run: a code, a message that says what failed and how to fix it, and where.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case invalidArgument, timedOut, setupFailed }
        private let base: Base

        /// A scenario option is out of range.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// The scenario did not reach its goal in time.
        public static let timedOut = Code(base: .timedOut)
        /// A part of the cluster under test could not be started.
        public static let setupFailed = Code(base: .setupFailed)

        public var description: String {
            switch self.base {
            case .invalidArgument: "invalid argument"
            case .timedOut: "timed out"
            case .setupFailed: "setup failed"
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
