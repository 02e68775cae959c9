// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RegattaCoordination
import RegattaCore
import Synchronization

extension AgentRunner {
    /// Why a SUBSCRIBE stream ended.
    enum StreamEnd: Sendable, Equatable, CustomStringConvertible {
        /// The master answered SUBSCRIBE with an error status.
        case rejected(String)
        /// The master could not be reached or the stream broke.
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
        /// The master answered `401` or `403`: it did not accept the agent's credential (or wants one).
        case unauthorized(String)

        var description: String {
            switch self {
            case .rejected(let message): message
            case .failed(let message): message
            case .closedByMaster: "the master closed the stream"
            case .masterError(let message): "the master sent ERROR: \(message)"
            case .pingTimeout(let timeout): "no message from the master for \(timeout)"
            case .resubscribeRequested: "the master does not know this agent"
            case .leaderChanged: "the leading master changed"
            case .notLeader(let message): message
            case .unavailable(let message): "the master is unavailable: \(message)"
            case .unauthorized(let message): message
            }
        }
    }

    /// Liveness of one SUBSCRIBE stream, shared by the reader and the watchdog; times are the agent's uptime.
    final class StreamSession: Sendable {
        private struct State {
            var registered = false
            var lastMessage: Duration
            var timeout: Duration
        }
        private let state: Mutex<State>

        init(openedAt: Duration, timeout: Duration) {
            self.state = Mutex(State(lastMessage: openedAt, timeout: timeout))
        }

        var isRegistered: Bool { self.state.withLock { $0.registered } }

        func messageReceived(at instant: Duration) {
            self.state.withLock { $0.lastMessage = instant }
        }

        func registered(timeout: Duration) {
            self.state.withLock {
                $0.registered = true
                $0.timeout = timeout
            }
        }

        /// The silence that exceeded the timeout, if it did.
        func expired(at instant: Duration) -> Duration? {
            self.state.withLock { state in
                let silence = instant - state.lastMessage
                return silence > state.timeout ? state.timeout : nil
            }
        }
    }

    /// Where the next SUBSCRIBE goes, and under which leader generation.
    struct Target: Sendable {
        var endpoint: String
        /// The ``LeadingMaster`` generation the target was chosen under (`nil` for a fixed master).
        var generation: Int?
    }

    /// Keeps the agent subscribed to the master until the calling task is cancelled: SUBSCRIBE, handle the
    /// stream, and on any end SUBSCRIBE again with backoff (reset after each successful registration).
    ///
    /// With a `zk://` master, a detector follows the leader for as long as this runs: the agent subscribes only to
    /// the detected leader, waits while none is known, and drops its stream as soon as the leader changes, then
    /// re-registers with the new one at once (its id, its tasks; unacknowledged updates are resent once registered).
    func runMasterLink() async {
        guard case .zooKeeper = self.master.source, let detector = self.master.detector else {
            await self.keepSubscribed()
            return
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.master.leading.follow(detector.leaders(), logger: self.logger) }
            await self.keepSubscribed()
            group.cancelAll()
        }
    }

    private func keepSubscribed() async {
        var attempt = 0
        var unavailableAttempt = 0
        // A refused credential is reported once (until the agent registers again), not at every retry.
        var reportedUnauthorized = false
        var generator = self.environment.random
        while !Task.isCancelled {
            guard let target = await self.nextTarget() else { return }
            let (registered, end) = await self.subscribeOnce(target)
            await self.core.streamLost()
            self.master.endSession()
            if Task.isCancelled { return }
            if registered {
                attempt = 0
                reportedUnauthorized = false
            }
            let delay: Duration
            switch end {
            case .leaderChanged:
                attempt = 0
                unavailableAttempt = 0
                let next = self.master.leading.current.address
                self.logger.notice(
                    next == nil
                        ? "Lost the leading master; ignoring every master until ZooKeeper names one"
                        : "The leading master changed; re-registering with the new leader",
                    metadata: [LogKey.master: "\(next.map { "\($0)" } ?? "none")", LogKey.reason: "\(end)"]
                )
                // A little jitter so agents that saw the same change do not all dial the new leader at once.
                delay = .milliseconds(Int.random(in: 0..<100, using: &generator))
            case .unavailable:
                delay = Self.unavailableBackoff.delay(
                    attempt: unavailableAttempt,
                    random: Double.random(in: 0..<1, using: &generator)
                )
                unavailableAttempt += 1
                self.logger.info(
                    "Master not ready; subscribing again",
                    metadata: [
                        LogKey.master: "\(target.endpoint)", LogKey.retryDelay: "\(delay)", LogKey.reason: "\(end)",
                    ]
                )
            default:
                unavailableAttempt = 0
                delay = self.configuration.subscribeBackoff.delay(
                    attempt: attempt,
                    random: Double.random(in: 0..<1, using: &generator)
                )
                attempt += 1
                let metadata: Logger.Metadata = [
                    LogKey.master: "\(target.endpoint)", LogKey.retryDelay: "\(delay)", LogKey.reason: "\(end)",
                ]
                if registered {
                    self.logger.warning("Lost the master stream; subscribing again", metadata: metadata)
                } else if case .unauthorized = end {
                    if reportedUnauthorized {
                        self.logger.debug("Master refused the agent's credential; retrying", metadata: metadata)
                    } else {
                        reportedUnauthorized = true
                        self.logger.error(
                            "Master refused the agent's credential; fix --credential (retrying with backoff)",
                            metadata: metadata
                        )
                    }
                } else if case .rejected = end {
                    self.logger.warning("Master refused SUBSCRIBE; retrying", metadata: metadata)
                } else if case .notLeader = end {
                    self.logger.warning("Master is not the leader; retrying", metadata: metadata)
                } else if attempt == 1 || attempt % 10 == 0 {
                    self.logger.warning("Cannot subscribe to the master; retrying", metadata: metadata)
                } else {
                    self.logger.debug("Cannot subscribe to the master; retrying", metadata: metadata)
                }
            }
            let afterChange = Duration.milliseconds(Int.random(in: 0..<100, using: &generator))
            guard
                await self.pause(
                    delay,
                    generation: end == .leaderChanged ? nil : target.generation,
                    afterChange: afterChange
                )
            else { return }
        }
    }

    /// Backoff after `503` (the master is electing or recovering): short, since it is usually ready soon.
    static let unavailableBackoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5), jitter: 0.5)

    /// The fixed master, or the detected leader (waiting while none is known); `nil` once cancelled.
    private func nextTarget() async -> Target? {
        switch self.master.source {
        case .fixed(let endpoint):
            return Target(endpoint: endpoint, generation: nil)
        case .zooKeeper(let url):
            if self.master.leading.current.address == nil {
                self.logger.info(
                    "Waiting for ZooKeeper to name the leading master",
                    metadata: [LogKey.master: "\(url)"]
                )
            }
            guard let snapshot = await self.master.leading.waitForLeader(), let address = snapshot.address else {
                return nil
            }
            // With a CA, the master is reached over https whatever ZooKeeper says (its data is not authenticated).
            let requiringTLS = self.configuration.tls?.defaultScheme == "https"
            return Target(
                endpoint: MasterSource.endpoint(address, requiringTLS: requiringTLS),
                generation: snapshot.generation
            )
        }
    }

    /// Sleeps `delay`, ending early when the leader moves on from `generation` (then after the jitter `afterChange`,
    /// so agents that waited for the same leader do not all dial it at once).
    ///
    /// - Returns: `false` when cancelled.
    private func pause(_ delay: Duration, generation: Int?, afterChange: Duration) async -> Bool {
        guard let generation else {
            do {
                try await self.sleep(for: delay)
                return true
            } catch {
                return false
            }
        }
        let leading = self.master.leading
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.sleep(for: delay) }
            group.addTask { await leading.waitForChange(from: generation) }
            await group.next()
            group.cancelAll()
        }
        if Task.isCancelled { return false }
        if leading.current.generation != generation {
            do {
                try await self.sleep(for: afterChange)
            } catch {
                return false
            }
        }
        return true
    }

    /// One SUBSCRIBE: returns whether the master registered the agent on this stream, and why it ended.
    private func subscribeOnce(_ target: Target) async -> (registered: Bool, end: StreamEnd) {
        // A re-subscribe asked for before this SUBSCRIBE is answered by it.
        _ = await self.core.takeResubscribeRequest()
        // Updates wait while the agent is not registered; let sends still in flight settle first, so the tasks'
        // states in SUBSCRIBE include every update the master took.
        let settleDeadline = self.uptime() + self.configuration.requestTimeout + .seconds(1)
        while await self.core.updatesInFlight > 0 && self.uptime() < settleDeadline {
            try? await self.sleep(for: .milliseconds(10))
        }
        let leading = self.master.leading
        if let generation = target.generation, leading.current.generation != generation {
            return (false, .leaderChanged)
        }
        let call = await self.core.subscribeCall(capabilities: self.capabilities, version: self.version)
        // The tasks it reports are checkpointed durably first, as every status update is.
        await self.core.syncer.waitUntilDurable(self.core.syncer.latestTicket)
        let response: HTTPClientResponse
        do {
            // A detected leader's redirect is not followed: only ZooKeeper says who leads.
            let outcome = try await self.raceLeaderChange(target.generation) {
                try await self.master.subscribe(call, to: target.endpoint, followRedirect: target.generation == nil)
            }
            guard let outcome else { return (false, .leaderChanged) }
            switch outcome {
            case .opened(let opened, _):
                response = opened
            case .notLeader(let message):
                return (false, .notLeader(message))
            case .unavailable(let message):
                return (false, .unavailable(message))
            case .unauthorized(let status, let message):
                return (false, .unauthorized(self.unauthorizedMessage(status: status, message: message)))
            case .rejected(let status, let message):
                return (false, .rejected("The master refused SUBSCRIBE with status \(status): \(message)"))
            }
        } catch {
            return (false, .failed("cannot reach the master: \(error)"))
        }
        let session = StreamSession(
            openedAt: self.uptime(),
            timeout: self.configuration.defaultPingInterval * self.configuration.missedPingsBeforeReconnect
        )
        let end: StreamEnd
        do {
            end = try await withThrowingTaskGroup(of: StreamEnd.self) { group in
                group.addTask { try await self.read(response.body, session: session) }
                group.addTask { try await self.watch(session) }
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
        return (session.isRegistered, end)
    }

    /// What to tell the operator when the master answers `401`/`403`: which flag to fix.
    func unauthorizedMessage(status: Int, message: String) -> String {
        guard let credential = self.master.credential else {
            return "The master requires authentication (status \(status): \(message)); start the agent with "
                + "--credential FILE holding a principal and secret from the master's --credentials."
        }
        if status == 403 {
            return "The master does not allow principal '\(credential.principal)' to act as this agent "
                + "(status 403: \(message)); use the --credential of the principal that registered this agent, "
                + "or one the master's ACLs allow."
        }
        return "The master did not accept the --credential of principal '\(credential.principal)' "
            + "(status \(status): \(message)); give --credential a principal and secret listed in the master's "
            + "--credentials."
    }

    /// Runs `body`, abandoning it (`nil`) if the leader moves on from `generation` first.
    private func raceLeaderChange<T: Sendable>(
        _ generation: Int?,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        guard let generation else { return try await body() }
        let leading = self.master.leading
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

    /// Reads the RecordIO stream of messages until it ends or breaks the protocol.
    private func read(_ body: HTTPClientResponse.Body, session: StreamSession) async throws -> StreamEnd {
        var decoder = RecordIODecoder()
        for try await chunk in body {
            for record in try decoder.feed(chunk.readableBytesView) {
                // Any record proves the stream alive, even one this agent cannot decode.
                session.messageReceived(at: self.uptime())
                let message: AgentMessage
                do {
                    message = try MesosJSON.decodeFast(AgentMessage.self, from: record)
                } catch {
                    self.logger.warning(
                        "Ignoring a message from the master that cannot be decoded",
                        metadata: [LogKey.error: "\(error)"]
                    )
                    continue
                }
                if let end = await self.handle(message, session: session) {
                    return end
                }
            }
        }
        return .closedByMaster
    }

    /// Ends the stream when the master has been silent too long or a re-subscribe was requested.
    private func watch(_ session: StreamSession) async throws -> StreamEnd {
        while true {
            try await self.sleep(for: .milliseconds(100))
            if await self.core.takeResubscribeRequest() {
                return .resubscribeRequested
            }
            if let timeout = session.expired(at: self.uptime()) {
                return .pingTimeout(timeout)
            }
        }
    }

    /// Handles one message; returns a reason to end the stream, or `nil` to go on.
    private func handle(_ message: AgentMessage, session: StreamSession) async -> StreamEnd? {
        self.logger.trace("Message from master", metadata: [LogKey.messageType: "\(message.type.rawValue)"])
        if !session.isRegistered && message.type != .registered && message.type != .error {
            return .failed("the master sent \(message.type.rawValue) before REGISTERED")
        }
        switch message.type {
        case .registered:
            guard let registered = message.registered else {
                return .failed("the master sent REGISTERED without its 'registered' field")
            }
            guard !session.isRegistered else {
                self.logger.warning("Ignoring a second REGISTERED on the same stream")
                return nil
            }
            let meta = await self.core.registered(registered)
            do {
                try self.metaStore.save(meta)
            } catch {
                self.logger.error(
                    "Cannot save the agent id; a restarted agent would register as a new one",
                    metadata: [LogKey.error: "\(error)"]
                )
            }
            let interval =
                // At most a day: a huge (or infinite) interval from the wire must neither trap nor disable the
                // agent's check that its master is still there.
                registered.pingIntervalSeconds.flatMap {
                    $0 > 0 && $0.isFinite ? Duration.seconds(min($0, 86_400)) : nil
                }
                ?? self.configuration.defaultPingInterval
            session.registered(timeout: interval * self.configuration.missedPingsBeforeReconnect)
            self.logger.info(
                "Registered with master",
                metadata: [
                    LogKey.agentID: "\(registered.agentId)",
                    LogKey.master: "\(self.master.sessionEndpoint ?? "-")",
                    "ping.interval": "\(interval)",
                ]
            )
        case .launch:
            guard let launch = message.launch else {
                self.logger.warning("Ignoring LAUNCH without its 'launch' field")
                return nil
            }
            await self.core.launch(launch)
        case .kill:
            guard let kill = message.kill else {
                self.logger.warning("Ignoring KILL without its 'kill' field")
                return nil
            }
            if let containerKill = await self.core.kill(kill) {
                await self.killContainer(containerKill)
            }
        case .shutdownFramework:
            guard let shutdown = message.shutdownFramework else {
                self.logger.warning("Ignoring SHUTDOWN_FRAMEWORK without its 'shutdown_framework' field")
                return nil
            }
            self.logger.info("Shutting down framework", metadata: [LogKey.frameworkID: "\(shutdown.frameworkId)"])
            for containerKill in await self.core.shutdownFramework(shutdown.frameworkId) {
                await self.killContainer(containerKill)
            }
        case .ping:
            if let agentID = await self.core.agentID {
                await self.core.schedule(.pong(agentID))
            }
        case .acknowledge:
            guard let acknowledge = message.acknowledge else {
                self.logger.warning("Ignoring ACKNOWLEDGE without its 'acknowledge' field")
                return nil
            }
            await self.core.acknowledge(acknowledge)
        case .error:
            let text = message.error?.message ?? "(no message)"
            self.logger.warning("Master sent an error; subscribing again", metadata: [LogKey.error: "\(text)"])
            return .masterError(text)
        }
        return nil
    }
}
