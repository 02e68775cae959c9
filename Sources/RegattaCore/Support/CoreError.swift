// SPDX-License-Identifier: Apache-2.0

/// An error raised by RegattaCore when input cannot be parsed or is out of range.
///
/// `message` says what failed and how to fix it, and is safe to show to operators and API callers.
public struct CoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidResources, invalidRecordIO, invalidDuration, invalidAttributes, invalidJSON
        }
        private let base: Base

        /// A `--resources` text or JSON value is malformed or out of range.
        public static let invalidResources = Code(base: .invalidResources)
        /// A RecordIO stream has a bad length prefix or an oversized record.
        public static let invalidRecordIO = Code(base: .invalidRecordIO)
        /// A duration such as `15secs` is malformed.
        public static let invalidDuration = Code(base: .invalidDuration)
        /// An `--attributes` text is malformed.
        public static let invalidAttributes = Code(base: .invalidAttributes)
        /// A JSON document does not have the expected shape.
        public static let invalidJSON = Code(base: .invalidJSON)

        public var description: String { self.base.rawValue }
    }

    public var code: Code
    public var message: String
    public var location: String

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.location = "\(file):\(line)"
    }

    public var description: String { self.message }

    public static func == (lhs: CoreError, rhs: CoreError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}
