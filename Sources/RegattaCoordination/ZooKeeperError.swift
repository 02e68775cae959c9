// SPDX-License-Identifier: Apache-2.0

/// An error from a ZooKeeper connection, operation or URL.
///
/// `description` says what failed and how to fix it and never contains credentials; `debugDescription` adds the C
/// client's return code and the source location.
public struct ZooKeeperError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is; compare with the static members (`error.code == .noNode`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case noNode, nodeExists, notEmpty, badVersion, noChildrenForEphemerals, noAuth, invalidACL
            case badArguments, connectionLoss, operationTimeout, sessionExpired, authenticationFailed, closed
            case connectTimeout, invalidURL, candidacyLost, invalidData, system
        }
        private let base: Base

        /// The node does not exist (`ZNONODE`).
        public static let noNode = Code(base: .noNode)
        /// The node already exists (`ZNODEEXISTS`).
        public static let nodeExists = Code(base: .nodeExists)
        /// The node has children, so it cannot be deleted (`ZNOTEMPTY`).
        public static let notEmpty = Code(base: .notEmpty)
        /// The node's version differs from the expected one (`ZBADVERSION`).
        public static let badVersion = Code(base: .badVersion)
        /// Ephemeral nodes cannot have children (`ZNOCHILDRENFOREPHEMERALS`).
        public static let noChildrenForEphemerals = Code(base: .noChildrenForEphemerals)
        /// The node's ACL does not allow this client the operation (`ZNOAUTH`).
        public static let noAuth = Code(base: .noAuth)
        /// The ACL is invalid (`ZINVALIDACL`).
        public static let invalidACL = Code(base: .invalidACL)
        /// A path or argument is invalid (`ZBADARGUMENTS`).
        public static let badArguments = Code(base: .badArguments)
        /// The connection was lost while the operation was in flight; the client reconnects by itself
        /// (`ZCONNECTIONLOSS`).
        public static let connectionLoss = Code(base: .connectionLoss)
        /// The operation timed out (`ZOPERATIONTIMEOUT`).
        public static let operationTimeout = Code(base: .operationTimeout)
        /// The session expired: its ephemeral nodes and watches are gone and the client is unusable
        /// (`ZSESSIONEXPIRED`, `ZINVALIDSTATE`).
        public static let sessionExpired = Code(base: .sessionExpired)
        /// The server rejected the credentials (`ZAUTHFAILED`).
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// The client was closed (`ZCLOSING`, or any call after ``ZooKeeperClient/close()``).
        public static let closed = Code(base: .closed)
        /// No session could be established within the connect timeout.
        public static let connectTimeout = Code(base: .connectTimeout)
        /// A `zk://` URL is malformed.
        public static let invalidURL = Code(base: .invalidURL)
        /// A ``LeaderContender``'s node is gone (deleted, or its session expired).
        public static let candidacyLost = Code(base: .candidacyLost)
        /// A node holds data in a format that was not expected (e.g. an election node without MasterInfo JSON).
        public static let invalidData = Code(base: .invalidData)
        /// Any other failure of the C client.
        public static let system = Code(base: .system)

        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed and how to fix it; safe to show to operators.
    public var message: String
    /// The C client's return code (`ZNONODE` is -101, …) when the failure came from it.
    public var returnCode: Int32?
    /// The C client's text for ``returnCode``, when the failure came from it.
    public var returnCodeText: String?
    /// The znode path the operation was about, if any.
    public var path: String?
    /// Where the error was raised (`file:line`).
    public var location: String

    public init(
        _ code: Code,
        _ message: String,
        path: String? = nil,
        returnCode: Int32? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.returnCode = returnCode
        self.location = "\(file):\(line)"
    }

    public var description: String { self.message }

    public var debugDescription: String {
        var text = "ZooKeeperError(\(self.code)): \(self.message)"
        if let returnCode = self.returnCode {
            text += " [rc \(returnCode): \(self.returnCodeText ?? "?")]"
        }
        return text + " at \(self.location)"
    }
}
