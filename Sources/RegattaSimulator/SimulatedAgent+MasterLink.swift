// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import RegattaCoordination
import RegattaCore

extension SimulatedAgent {
    /// Why a SUBSCRIBE stream ended.
    enum StreamEnd: Sendable, CustomStringConvertible {
        case failed(String)
        case closedByMaster
        case masterError(String)
        case pingTimeout(Duration)
        case resubscribeRequested
        /// ZooKeeper named another leader (or none): the stream to the old one is dropped.
        case leaderChanged
        /// The master answered `307`: it is not the leader.
        case notLeader(String)
        /// The master answered `503`: it knows no leader or is not ready yet.
        case unavailable(String)

        var description: String {
            switch self {
            case .failed(let message): message
            case .closedByMaster: "the master closed the stream"
            case .masterError(let message): "the master sent ERROR: \(message)"
            case .pingTimeout(let timeout): "no message from the master for \(timeout)"
            case .resubscribeRequested: "the master does not know this agent"
            case .leaderChanged: "the leading master changed"
            case .notLeader(let message): message
            case .unavailable(let message): "the master is unavailable: \(message)"
            }
        }
    }

    /// Where the next SUBSCRIBE goes, and under which leader generation.
    struct Target: Sendable {
        var endpoint: String
        /// The ``LeadingMaster`` generation the target was chosen under (`nil` for a fixed master).
        var generation: Int?
    }

    /// Keeps the agent subscribed until the calling task is cancelled: SUBSCRIBE, read the stream, and on any
    /// end SUBSCRIBE again with backoff (reset once a stream registered), as the real agent does.
    ///
    /// With a `zk://` master the agent subscribes only to the detected leader, waits while none is known, drops its
    /// stream as soon as the leader changes, and re-registers with the new one (its id, its tasks) after a short
    /// random delay (see ``AgentSimulator/Configuration/leaderChangeRate``).
    func runMasterLink() async {
        var attempt = 0
        var unavailableAttempt = 0
        while !Task.isCancelled {
            guard let target = await self.nextTarget() else { return }
            let (registered, end) = await self.subscribeOnce(target)
            if Task.isCancelled { return }
            if registered {
                attempt = 0
            } else if case .leaderChanged = end {
                // Not a failure: the SUBSCRIBE was abandoned for the new leader.
            } else {
                self.counters.update { $0.subscribeFailures += 1 }
            }
            let delay: Duration
            var generation = target.generation
            switch end {
            case .leaderChanged:
                attempt = 0
                unavailableAttempt = 0
                generation = nil
                delay = self.leaderChangeDelay()
            case .unavailable:
                let random = self.state.withLock { $0.random.unit() }
                delay = self.configuration.unavailableBackoff.delay(attempt: unavailableAttempt, random: random)
                unavailableAttempt += 1
            default:
                unavailableAttempt = 0
                let random = self.state.withLock { $0.random.unit() }
                delay = self.configuration.subscribeBackoff.delay(attempt: attempt, random: random)
                attempt += 1
            }
            self.logger.debug(
                registered ? "Lost the master stream; subscribing again" : "Cannot subscribe to the master; retrying",
                metadata: [
                    LogKey.master: "\(target.endpoint)", LogKey.reason: "\(end)", LogKey.retryDelay: "\(delay)",
                ]
            )
            guard await self.pause(delay, generation: generation) else { return }
        }
    }

    /// The random delay before re-subscribing after a leader change: `0 ..< agents / leaderChangeRate`.
    private func leaderChangeDelay() -> Duration {
        guard let rate = self.configuration.leaderChangeRate, rate > 0 else { return .zero }
        let spread = Double(self.configuration.agents) / rate
        let random = self.state.withLock { $0.random.unit() }
        return .nanoseconds(Int64(spread * random * 1e9))
    }

    /// The fixed master, or the detected leader (waiting while none is known); `nil` once cancelled.
    private func nextTarget() async -> Target? {
        switch self.source {
        case .fixed(let endpoint):
            return Target(endpoint: endpoint, generation: nil)
        case .zooKeeper:
            guard let snapshot = await self.leading.waitForLeader(), let address = snapshot.address else { return nil }
            return Target(endpoint: MasterSource.endpoint(address), generation: snapshot.generation)
        }
    }

    /// Sleeps `delay`; with a `generation`, ends early once the leader moves on from it (then after the leader-change
    /// delay, so agents that waited for the same leader do not all dial it at once).
    ///
    /// - Returns: `false` when cancelled.
    private func pause(_ delay: Duration, generation: Int?) async -> Bool {
        guard let generation else {
            do {
                if delay > .zero { try await Task.sleep(for: delay) }
                return true
            } catch {
                return false
            }
        }
        let leading = self.leading
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: delay) }
            group.addTask { await leading.waitForChange(from: generation) }
            await group.next()
            group.cancelAll()
        }
        if Task.isCancelled { return false }
        if leading.current.generation != generation {
            let jitter = self.leaderChangeDelay()
            do {
                if jitter > .zero { try await Task.sleep(for: jitter) }
            } catch {
                return false
            }
        }
        return true
    }

    /// The SUBSCRIBE call: the agent's info with its id (once it has one) and every task it knows, including
    /// finished ones whose terminal update the master has not taken yet.
    private func subscribeCall(state: State) -> AgentCall {
        var info = self.info
        info.id = state.agentID
        let tasks = state.tasks.values.sorted { $0.info.taskId < $1.info.taskId }
            .map { AgentTask(frameworkId: $0.frameworkID, task: $0.info, state: $0.state) }
        var call = AgentCall.subscribe(
            .init(agentInfo: info, tasks: tasks, capabilities: [], version: self.configuration.version)
        )
        call.registrationToken = state.registrationToken
        return call
    }

    /// One SUBSCRIBE: returns whether the master registered the agent on this stream, and why it ended.
    private func subscribeOnce(_ target: Target) async -> (registered: Bool, end: StreamEnd) {
        let leading = self.leading
        if let generation = target.generation, leading.current.generation != generation {
            return (false, .leaderChanged)
        }
        let session = StreamSession(
            openedAt: .now,
            timeout: self.configuration.defaultPingInterval * self.configuration.missedPingsBeforeReconnect
        )
        let call = self.state.withLock { state in
            state.session = session
            return self.subscribeCall(state: state)
        }
        defer {
            self.state.withLock { state in
                if state.session === session {
                    state.session = nil
                    state.masterEndpoint = nil
                }
            }
        }
        let response: HTTPClientResponse
        let endpoint: String
        do {
            // A detected leader's redirect is not followed: only ZooKeeper says who leads.
            let client = self.client
            let outcome = try await Self.raceLeaderChange(leading, target.generation) {
                try await client.subscribe(call, to: target.endpoint, followRedirect: target.generation == nil)
            }
            guard let outcome else { return (false, .leaderChanged) }
            switch outcome {
            case .opened(let opened, let reached):
                response = opened
                endpoint = reached
            case .notLeader(let message):
                return (false, .notLeader(message))
            case .unavailable(let message):
                return (false, .unavailable(message))
            case .rejected(let status, let message):
                return (false, .failed("the master refused SUBSCRIBE with \(status): \(message)"))
            }
        } catch {
            return (false, .failed("\(error)"))
        }
        let master = MasterSource.hostPort(of: endpoint)
        self.state.withLock { state in
            if state.session === session { state.masterEndpoint = endpoint }
        }
        let end: StreamEnd
        do {
            end = try await withThrowingTaskGroup(of: StreamEnd.self) { group in
                group.addTask { try await self.read(response.body, session: session, master: master) }
                group.addTask { try await self.watch(session) }
                group.addTask {
                    await session.waitForResubscribeRequest()
                    return .resubscribeRequested
                }
                if let generation = target.generation {
                    group.addTask {
                        await leading.waitForChange(from: generation)
                        try Task.checkCancellation()
                        return .leaderChanged
                    }
                }
                let first = try await group.next() ?? .closedByMaster
                group.cancelAll()
                return first
            }
        } catch {
            end = .failed("\(error)")
        }
        if session.isRegistered { self.counters.streamLost(from: master) }
        return (session.isRegistered, end)
    }

    /// Runs `body`, abandoning it (`nil`) if the leader moves on from `generation` first.
    private static func raceLeaderChange<T: Sendable>(
        _ leading: LeadingMaster,
        _ generation: Int?,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        guard let generation else { return try await body() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await leading.waitForChange(from: generation)
                try Task.checkCancellation()
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Reads the RecordIO stream until it ends or breaks the protocol.
    private func read(_ body: HTTPClientResponse.Body, session: StreamSession, master: String) async throws -> StreamEnd
    {
        var decoder = RecordIODecoder()
        for try await chunk in body {
            for record in try decoder.feed(chunk.readableBytesView) {
                // Any record proves the stream alive, even one the agent cannot decode.
                session.messageReceived(at: .now)
                guard let message = try? MesosJSON.decodeFast(AgentMessage.self, from: record) else {
                    self.logger.debug("Ignoring a message from the master that cannot be decoded")
                    continue
                }
                if let end = self.handle(message, session: session, master: master) { return end }
            }
        }
        return .closedByMaster
    }

    /// Ends the stream once the master has been silent for longer than the session allows.
    private func watch(_ session: StreamSession) async throws -> StreamEnd {
        while true {
            try await Task.sleep(until: session.deadline, clock: .continuous)
            if let timeout = session.expired(at: .now) { return .pingTimeout(timeout) }
        }
    }

    /// Handles one message; returns a reason to end the stream, or `nil` to go on.
    private func handle(_ message: AgentMessage, session: StreamSession, master: String) -> StreamEnd? {
        if !session.isRegistered && message.type != .registered && message.type != .error {
            return .failed("the master sent \(message.type.rawValue) before REGISTERED")
        }
        switch message.type {
        case .registered:
            guard let registered = message.registered else {
                return .failed("the master sent REGISTERED without its 'registered' field")
            }
            if session.isRegistered { return nil }
            let previous = self.state.withLock { state in
                let previous = state.agentID
                state.agentID = registered.agentId
                state.registrationToken = registered.registrationToken
                return previous
            }
            if let previous, previous != registered.agentId {
                self.logger.warning(
                    "The master assigned a different agent id; adopting it",
                    metadata: ["requested": "\(previous)", LogKey.agentID: "\(registered.agentId)"]
                )
            }
            let interval =
                registered.pingIntervalSeconds.flatMap { $0 > 0 ? Saturating.duration(seconds: $0) : nil }
                ?? self.configuration.defaultPingInterval
            session.registered(timeout: interval * self.configuration.missedPingsBeforeReconnect)
            self.counters.registered(with: master, at: .now, reregistration: previous != nil)
        case .launch:
            guard let launch = message.launch else { return nil }
            self.schedule(self.launch(launch))
        case .kill:
            guard let kill = message.kill else { return nil }
            self.schedule(self.kill(kill.frameworkId, kill.taskId))
        case .shutdownFramework:
            guard let shutdown = message.shutdownFramework else { return nil }
            self.schedule(self.shutdownFramework(shutdown.frameworkId))
        case .ping:
            self.counters.update { $0.pings += 1 }
            self.schedule([.pong])
        case .acknowledge:
            // Updates are done once the master answers 202, as with the real agent.
            break
        case .error:
            return .masterError(message.error?.message ?? "(no message)")
        }
        return nil
    }
}
