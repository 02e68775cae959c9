// SPDX-License-Identifier: Apache-2.0
import CZooKeeper

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
        self.returnCodeText = String(cString: zerror(rc))
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
