// SPDX-License-Identifier: Apache-2.0

/// Why a master with `--zk` stops at once, and the process exit code that says so (documented in
/// docs/operations.md). A master never keeps acting as leader once it may have lost the election; a supervisor
/// (systemd, …) is expected to restart it, and it then rejoins the election as a new contender.
public struct MasterExit: Error, Sendable, Equatable, CustomStringConvertible {
    /// The process exit code.
    public var code: Int32
    /// A one-line explanation for the log.
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// ZooKeeper could not be reached when the master started (100).
    public static func zooKeeperUnreachable(_ message: String) -> MasterExit {
        MasterExit(code: 100, message: message)
    }
    /// The ZooKeeper session expired, ended, or stayed disconnected for the session timeout (101).
    public static func sessionLost(_ message: String) -> MasterExit {
        MasterExit(code: 101, message: message)
    }
    /// This master's own election node is gone: leadership (or candidacy) lost (103).
    public static func leadershipLost(_ message: String) -> MasterExit {
        MasterExit(code: 103, message: message)
    }
    /// More than `--recovery_agent_removal_limit` of the registry's agents did not re-register in time (104).
    public static func agentRemovalLimit(_ message: String) -> MasterExit {
        MasterExit(code: 104, message: message)
    }

    public var description: String { self.message }
}
