// SPDX-License-Identifier: Apache-2.0
import RegattaCoordination
import Synchronization

/// A ``LeaderElection`` in memory: one session of this process in an election that tests drive by hand — the session
/// state, other contenders, and lost candidacies.
///
/// Candidacies get increasing epochs; the lowest live one leads. Everything is recorded: ``contended`` (the data of
/// every candidacy this process entered), ``withdrawn`` and ``isClosed``.
public final class InMemoryLeaderElection: LeaderElection {
    struct Candidate: Sendable {
        var epoch: Int64
        var data: [UInt8]
        var own: Bool
    }

    struct State: Sendable {
        var session: CoordinationSessionState = .connected
        var candidates: [Candidate] = []
        var nextEpoch: Int64 = 1
        var contended: [[UInt8]] = []
        var withdrawn: [Int64] = []
        var closed = false
        var nextID = 0
        var sessionWatchers: [Int: AsyncStream<CoordinationSessionState>.Continuation] = [:]
        var changeWatchers: [Int: AsyncStream<Void>.Continuation] = [:]
        var leaderWatchers: [Int: LeaderWatcher] = [:]

        var leader: ElectedLeader? {
            self.candidates.min { $0.epoch < $1.epoch }.map {
                ElectedLeader(name: InMemoryLeaderElection.name($0.epoch), epoch: $0.epoch, data: $0.data)
            }
        }
    }

    struct LeaderWatcher: Sendable {
        var continuation: AsyncThrowingStream<ElectedLeader?, any Error>.Continuation
        var reported: ElectedLeader??
    }

    public let sessionTimeout: Duration
    private let state = Mutex(State())

    /// An election with a connected session whose timeout is `sessionTimeout`.
    public init(sessionTimeout: Duration = .seconds(10)) {
        self.sessionTimeout = sessionTimeout
    }

    static func name(_ epoch: Int64) -> String { "candidate-\(epoch)" }

    // MARK: What the test sees and does

    /// The data of every candidacy this process entered, in order.
    public var contended: [[UInt8]] { self.state.withLock { $0.contended } }
    /// The epochs of the candidacies this process withdrew, in order.
    public var withdrawn: [Int64] { self.state.withLock { $0.withdrawn } }
    /// Whether ``close()`` was called.
    public var isClosed: Bool { self.state.withLock { $0.closed } }
    /// The leader now.
    public var leader: ElectedLeader? { self.state.withLock { $0.leader } }
    /// The epochs of the live candidacies, this process's and others'.
    public var candidacies: [Int64] { self.state.withLock { $0.candidates.map(\.epoch) } }

    /// Another process enters the election with `data`; returns its epoch.
    @discardableResult
    public func addContender(data: [UInt8] = []) -> Int64 {
        self.mutate { state in
            let epoch = state.nextEpoch
            state.nextEpoch += 1
            state.candidates.append(Candidate(epoch: epoch, data: data, own: false))
            return epoch
        }
    }

    /// The candidacy with `epoch` disappears (its node was deleted, or its process's session expired).
    public func removeCandidacy(epoch: Int64) {
        self.mutate { $0.candidates.removeAll { $0.epoch == epoch } }
    }

    /// The session changes state; an end state removes this process's candidacies, as in ZooKeeper.
    public func setSessionState(_ session: CoordinationSessionState) {
        self.mutate { state in
            guard !state.session.isTerminal, state.session != session else { return }
            state.session = session
            for watcher in state.sessionWatchers.values { watcher.yield(session) }
            if session.isTerminal { state.candidates.removeAll { $0.own } }
        }
    }

    // MARK: LeaderElection

    public func sessionStates() -> AsyncStream<CoordinationSessionState> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: CoordinationSessionState.self,
            bufferingPolicy: .bufferingNewest(64)
        )
        let id: Int? = self.state.withLock { state in
            continuation.yield(state.session)
            guard !state.session.isTerminal else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.sessionWatchers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.sessionWatchers.removeValue(forKey: id) }
        }
        return stream
    }

    public func contend(data: [UInt8]) async throws -> any LeaderCandidacy {
        let epoch = try self.mutate { state -> Int64 in
            guard !state.session.isTerminal else {
                throw LeaderElectionError(.sessionEnded, "The in-memory session is \(state.session).")
            }
            let epoch = state.nextEpoch
            state.nextEpoch += 1
            state.candidates.append(Candidate(epoch: epoch, data: data, own: true))
            state.contended.append(data)
            return epoch
        }
        return Candidacy(election: self, epoch: epoch)
    }

    public func detector() -> any LeaderDetector {
        InMemoryLeaderDetector(election: self)
    }

    public func close() async {
        self.state.withLock { $0.closed = true }
        self.setSessionState(.closed)
    }

    // MARK: Internals

    /// The stream of the leaders, for ``InMemoryLeaderDetector``.
    func leaders() -> AsyncThrowingStream<ElectedLeader?, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: ElectedLeader?.self,
            throwing: (any Error).self,
            bufferingPolicy: .bufferingNewest(1)
        )
        let id: Int? = self.state.withLock { state in
            guard !state.session.isTerminal else { return nil }
            let leader = state.leader
            continuation.yield(leader)
            let id = state.nextID
            state.nextID += 1
            state.leaderWatchers[id] = LeaderWatcher(continuation: continuation, reported: .some(leader))
            return id
        }
        guard let id else {
            continuation.finish(throwing: LeaderElectionError(.sessionEnded, "The in-memory session has ended."))
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.leaderWatchers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Waits until `condition` holds (checked now and after every change), or throws what it throws.
    func wait(until condition: @Sendable (State) throws -> Bool) async throws {
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = self.state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.changeWatchers[id] = continuation
            return id
        }
        defer { _ = self.state.withLock { $0.changeWatchers.removeValue(forKey: id) } }
        if try self.state.withLock({ try condition($0) }) { return }
        for await _ in changes {
            if try self.state.withLock({ try condition($0) }) { return }
        }
        throw CancellationError()
    }

    fileprivate func candidateState(_ epoch: Int64) -> (live: Bool, leads: Bool, session: CoordinationSessionState) {
        self.state.withLock { state in
            (
                state.candidates.contains { $0.epoch == epoch },
                state.leader?.epoch == epoch,
                state.session
            )
        }
    }

    fileprivate func withdraw(_ epoch: Int64) {
        self.mutate { state in
            state.candidates.removeAll { $0.epoch == epoch }
            state.withdrawn.append(epoch)
        }
    }

    /// Changes the state, then tells every watcher: the leader watchers when the leader changed, the change
    /// watchers always; streams end after the session does.
    @discardableResult
    private func mutate<T>(_ body: (inout State) throws -> T) rethrows -> T {
        var finished: [AsyncThrowingStream<ElectedLeader?, any Error>.Continuation] = []
        var finishedSessions: [AsyncStream<CoordinationSessionState>.Continuation] = []
        let result = try self.state.withLock { state in
            let result = try body(&state)
            let leader = state.leader
            for (id, watcher) in state.leaderWatchers {
                if case .some(let previous) = watcher.reported, previous?.name == leader?.name { continue }
                watcher.continuation.yield(leader)
                state.leaderWatchers[id]?.reported = .some(leader)
            }
            for watcher in state.changeWatchers.values { watcher.yield() }
            if state.session.isTerminal {
                finished = state.leaderWatchers.values.map(\.continuation)
                state.leaderWatchers = [:]
                finishedSessions = Array(state.sessionWatchers.values)
                state.sessionWatchers = [:]
            }
            return result
        }
        // Finishing runs the streams' termination handlers, which take the lock.
        for continuation in finished {
            continuation.finish(throwing: LeaderElectionError(.sessionEnded, "The in-memory session has ended."))
        }
        for continuation in finishedSessions { continuation.finish() }
        return result
    }

    /// This process's candidacy.
    private struct Candidacy: LeaderCandidacy {
        let election: InMemoryLeaderElection
        let epoch: Int64

        var name: String { InMemoryLeaderElection.name(self.epoch) }

        func waitUntilElected() async throws {
            let epoch = self.epoch
            try await self.election.wait { state in
                if state.session.isTerminal {
                    throw LeaderElectionError(.sessionEnded, "The in-memory session is \(state.session).")
                }
                guard state.candidates.contains(where: { $0.epoch == epoch }) else {
                    throw LeaderElectionError(.candidacyLost, "Candidacy \(epoch) is gone.")
                }
                return state.leader?.epoch == epoch
            }
        }

        func waitUntilLost() async throws {
            let epoch = self.epoch
            try await self.election.wait { state in !state.candidates.contains { $0.epoch == epoch } }
        }

        func withdraw() async throws {
            self.election.withdraw(self.epoch)
        }
    }
}

/// A ``LeaderDetector`` of an ``InMemoryLeaderElection``.
public struct InMemoryLeaderDetector: LeaderDetector {
    private let election: InMemoryLeaderElection

    /// A detector of `election`'s leader.
    public init(election: InMemoryLeaderElection) {
        self.election = election
    }

    public func leaders() -> AsyncThrowingStream<ElectedLeader?, any Error> {
        self.election.leaders()
    }
}
