// SPDX-License-Identifier: Apache-2.0

/// A session with a coordination service (ZooKeeper) in which this process contends for leadership, the way Mesos
/// masters and Marathon schedulers do: every contender holds a candidacy, the oldest one leads.
///
/// Implementations: `ZooKeeperLeaderElection` in RegattaZooKeeper, `InMemoryLeaderElection` in RegattaTestKit.
///
/// - Important: The session is the unit of failure. A candidacy lasts as long as the session; once
///   ``sessionStates()`` has reported an end state (``CoordinationSessionState/isTerminal``), every candidacy is gone
///   and the election cannot be used again.
public protocol LeaderElection: Sendable {
    /// The session timeout in force (as negotiated with the service): how long the session survives a disconnection.
    var sessionTimeout: Duration { get }

    /// The session's state now, then every change; the stream finishes after an end state or when ``close()`` is
    /// called.
    func sessionStates() -> AsyncStream<CoordinationSessionState>

    /// Enters the election with `data` (what ``LeaderDetector`` shows of this contender, e.g. `MasterInfo` JSON).
    ///
    /// - Throws: ``LeaderElectionError`` if the candidacy cannot be created.
    func contend(data: [UInt8]) async throws -> any LeaderCandidacy

    /// Watches who leads this election.
    func detector() -> any LeaderDetector

    /// Ends the session: every candidacy of it ends at once, so another contender takes over without waiting for
    /// the session timeout. Idempotent.
    func close() async
}

/// One contender's place in a ``LeaderElection``.
public protocol LeaderCandidacy: Sendable {
    /// A name for logs (for ZooKeeper, the election node's path).
    var name: String { get }

    /// The candidacy's position in the election, increasing with every candidacy: the leadership epoch a leader
    /// claims in its store to fence off a deposed leader.
    var epoch: Int64 { get }

    /// Returns once this candidacy leads (at once if it does).
    ///
    /// - Throws: ``LeaderElectionError`` with ``LeaderElectionError/Code/candidacyLost`` if the candidacy ends first,
    ///   ``LeaderElectionError/Code/sessionEnded`` if the session does, or `CancellationError`.
    func waitUntilElected() async throws

    /// Returns when the candidacy has ended (withdrawn, deleted, or its session ended).
    ///
    /// - Throws: `CancellationError` only.
    func waitUntilLost() async throws

    /// Leaves the election; a candidacy that is already gone is not an error.
    func withdraw() async throws
}
