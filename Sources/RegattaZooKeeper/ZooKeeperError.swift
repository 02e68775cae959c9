// SPDX-License-Identifier: Apache-2.0
import CZooKeeper

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
            text += " [rc \(returnCode): \(String(cString: zerror(returnCode)))]"
        }
        return text + " at \(self.location)"
    }
}

extension ZooKeeperError {
    /// Translates a C client return code into an error naming the operation and the path.
    init(returnCode rc: Int32, operation: String, path: String?, file: String = #fileID, line: Int = #line) {
        let subject = path.map { "'\($0)'" } ?? "the session"
        let code: Code
        let message: String
        switch rc {
        case ZNONODE.rawValue:
            code = .noNode
            message = "ZooKeeper node \(subject) does not exist (\(operation)); create it (or its parents) first."
        case ZNODEEXISTS.rawValue:
            code = .nodeExists
            message = "ZooKeeper node \(subject) already exists (\(operation))."
        case ZNOTEMPTY.rawValue:
            code = .notEmpty
            message = "ZooKeeper node \(subject) has children; delete them first (\(operation))."
        case ZBADVERSION.rawValue:
            code = .badVersion
            message =
                "ZooKeeper node \(subject) changed since it was read (version conflict in \(operation)); read it again "
                    + "and retry."
        case ZNOCHILDRENFOREPHEMERALS.rawValue:
            code = .noChildrenForEphemerals
            message =
                "ZooKeeper node \(subject) cannot be created: its parent is ephemeral, and ephemeral nodes have no "
                    + "children."
        case ZNOAUTH.rawValue:
            code = .noAuth
            message =
                "Not authorized to \(operation) ZooKeeper node \(subject); connect with credentials its ACL allows "
                    + "(zk://user:password@host:port/path)."
        case ZINVALIDACL.rawValue:
            code = .invalidACL
            message = "ZooKeeper rejected the ACL for \(subject) (\(operation))."
        case ZBADARGUMENTS.rawValue:
            code = .badArguments
            message =
                "ZooKeeper rejected the arguments of \(operation) on \(subject); paths are absolute, without a "
                    + "trailing slash or empty components."
        case ZCONNECTIONLOSS.rawValue:
            code = .connectionLoss
            message =
                "Lost the connection to ZooKeeper during \(operation) of \(subject); the client reconnects by itself, "
                    + "so retry once the session is connected."
        case ZOPERATIONTIMEOUT.rawValue:
            code = .operationTimeout
            message = "ZooKeeper \(operation) of \(subject) timed out; retry once the session is connected."
        case ZSESSIONEXPIRED.rawValue, ZINVALIDSTATE.rawValue:
            code = .sessionExpired
            message =
                "The ZooKeeper session expired, so \(operation) of \(subject) failed; its ephemeral nodes and watches "
                    + "are gone. Connect a new client."
        case ZAUTHFAILED.rawValue:
            code = .authenticationFailed
            message = "ZooKeeper rejected the credentials; check the user:password in the zk:// URL."
        case ZCLOSING.rawValue:
            code = .closed
            message = "The ZooKeeper client was closed during \(operation) of \(subject); connect a new client."
        default:
            code = .system
            message = "ZooKeeper \(operation) of \(subject) failed: \(String(cString: zerror(rc)))."
        }
        self.init(code, message, path: path, returnCode: rc, file: file, line: line)
    }

    /// The error for any call made after ``ZooKeeperClient/close()``.
    static func closed(operation: String, path: String?) -> ZooKeeperError {
        let subject = path.map { " of '\($0)'" } ?? ""
        return ZooKeeperError(
            .closed,
            "The ZooKeeper client is closed, so \(operation)\(subject) cannot run; connect a new client.",
            path: path
        )
    }

    /// The error a watch ends with when its session expires.
    static func watchSessionExpired(path: String) -> ZooKeeperError {
        ZooKeeperError(
            .sessionExpired,
            "The ZooKeeper session expired, so the watch on '\(path)' will never fire; connect a new client and watch "
                + "again.",
            path: path
        )
    }

    /// The error a watch ends with when its client is closed.
    static func watchClosed(path: String) -> ZooKeeperError {
        ZooKeeperError(
            .closed,
            "The ZooKeeper client was closed, so the watch on '\(path)' will never fire.",
            path: path
        )
    }
}
