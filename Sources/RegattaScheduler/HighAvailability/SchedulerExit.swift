// SPDX-License-Identifier: Apache-2.0

/// Why an elected scheduler stopped for good: `regatta scheduler` exits with ``code`` (Marathon's crash-fast
/// codes), and a supervisor restarts it as a follower.
public struct SchedulerExit: Error, Sendable, Equatable, CustomStringConvertible {
    /// The process exit code.
    public var code: Int32
    /// What happened and what to do about it.
    public var message: String

    public init(code: Int32, _ message: String) {
        self.code = code
        self.message = message
    }

    /// 100: ZooKeeper cannot be reached at start-up.
    public static func zooKeeperUnreachable(_ detail: String) -> SchedulerExit {
        SchedulerExit(
            code: 100,
            "Cannot reach ZooKeeper at start-up (\(detail)); check --zk and that the ensemble runs."
        )
    }

    /// 101: the ZooKeeper session expired, or stayed disconnected for the session timeout.
    public static func sessionLost(_ detail: String) -> SchedulerExit {
        SchedulerExit(code: 101, "Lost the ZooKeeper session (\(detail)); stopped scheduling. Restart to rejoin.")
    }

    /// 103: leadership lost (the election node is gone, or the store fenced this scheduler off).
    public static func leadershipLost(_ detail: String) -> SchedulerExit {
        SchedulerExit(code: 103, "Lost leadership (\(detail)); stopped scheduling. Restart to rejoin as a follower.")
    }

    /// 108: instances are stored but no framework id, so subscribing would orphan their tasks.
    public static let frameworkIDMissing = SchedulerExit(
        code: 108,
        "The store holds instances but no framework id; subscribing as a new framework would orphan their tasks. "
            + "Restore the framework id (kv key 'framework_id') or remove the instances."
    )

    public var description: String { "\(self.message) (exit code \(self.code))" }
}
