// SPDX-License-Identifier: Apache-2.0

/// The leader of an election: the oldest candidacy and the data it was entered with.
public struct ElectedLeader: Hashable, Sendable, CustomStringConvertible {
    /// The candidacy's name (for ZooKeeper, the election node's name, e.g. `json.info_0000000003`).
    public var name: String
    /// The candidacy's epoch (``LeaderCandidacy/epoch``).
    public var epoch: Int64
    /// The data the leader entered the election with (for Mesos masters, `MasterInfo` JSON).
    public var data: [UInt8]

    /// A leader named `name` with `epoch` and `data`.
    public init(name: String, epoch: Int64, data: [UInt8]) {
        self.name = name
        self.epoch = epoch
        self.data = data
    }

    /// The candidacy's name.
    public var description: String { self.name }
}

/// Watches who leads an election, within one coordination session.
///
/// Implementations: `ZooKeeperLeaderDetector` in RegattaZooKeeper, `InMemoryLeaderDetector` in RegattaTestKit.
public protocol LeaderDetector: Sendable {
    /// Yields the current leader at once, then the new leader each time it changes (`nil` while there is none).
    ///
    /// - Important: A slow consumer sees only the newest value. The stream finishes with an error when the session
    ///   ends, and stops watching when the consumer stops iterating.
    func leaders() -> AsyncThrowingStream<ElectedLeader?, any Error>
}
