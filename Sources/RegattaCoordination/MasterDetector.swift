// SPDX-License-Identifier: Apache-2.0

/// Finds the leading Mesos master, the way Mesos agents and frameworks follow `zk://…/mesos`: across coordination
/// sessions, for as long as it is iterated.
///
/// Implementations: `ZooKeeperMasterDetector` in RegattaZooKeeper, `InMemoryMasterDetector` in RegattaTestKit.
public protocol MasterDetector: Sendable {
    /// Yields the leading master's address each time it changes, and `nil` while no leader is known (no contender,
    /// no session, or a leader that published no usable address).
    ///
    /// - Important: Consecutive equal values are not repeated and a slow consumer sees only the newest. The stream
    ///   never finishes by itself; it stops when the consumer stops iterating or is cancelled.
    func leaders() -> AsyncStream<MesosMasterAddress?>
}

/// Makes the ``MasterDetector`` for a `zk://` master URL: how a component that follows the leading master (an agent,
/// the agent simulator, the scheduler's master connection) is given its coordination service without linking it.
///
/// The parameters are the URL and the session timeout to ask for.
public typealias MasterDetectorFactory = @Sendable (ZooKeeperURL, Duration) -> any MasterDetector
