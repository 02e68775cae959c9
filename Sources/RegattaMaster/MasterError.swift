// SPDX-License-Identifier: Apache-2.0

/// An error the master returns to an API caller; `status` is the HTTP status to answer with.
public struct MasterError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case badRequest, forbidden, notFound, unsupportedMediaType, notLeader
        }
        private let base: Base
        /// The request is malformed (400).
        public static let badRequest = Code(base: .badRequest)
        /// The caller is not subscribed or used a stale stream id (403).
        public static let forbidden = Code(base: .forbidden)
        /// The referenced agent or framework is unknown (404).
        public static let notFound = Code(base: .notFound)
        /// The body is not JSON (415).
        public static let unsupportedMediaType = Code(base: .unsupportedMediaType)
        /// This master is not the leader (503 without a known leader).
        public static let notLeader = Code(base: .notLeader)
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

    /// The HTTP status code for this error.
    public var status: Int {
        switch self.code {
        case .badRequest: 400
        case .forbidden: 403
        case .notFound: 404
        case .unsupportedMediaType: 415
        default: 503
        }
    }

    public var description: String { self.message }

    public static func == (lhs: MasterError, rhs: MasterError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}
