// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
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

        var description: String {
            switch self {
            case .rejected(let message): message
            case .failed(let message): message
            case .closedByMaster: "the master closed the stream"
            case .masterError(let message): "the master sent ERROR: \(message)"
            case .pingTimeout(let timeout): "no message from the master for \(timeout)"
            case .resubscribeRequested: "the master does not know this agent"
            }
        }
    }

    /// Liveness of one SUBSCRIBE stream, shared by the reader and the watchdog.
    final class StreamSession: Sendable {
        private struct State {
            var registered = false
            var lastMessage: ContinuousClock.Instant
            var timeout: Duration
        }
        private let state: Mutex<State>

        init(openedAt: ContinuousClock.Instant, timeout: Duration) {
            self.state = Mutex(State(lastMessage: openedAt, timeout: timeout))
        }

        var isRegistered: Bool { self.state.withLock { $0.registered } }

        func messageReceived(at instant: ContinuousClock.Instant) {
            self.state.withLock { $0.lastMessage = instant }
        }

        func registered(timeout: Duration) {
            self.state.withLock {
                $0.registered = true
                $0.timeout = timeout
            }
        }

        /// The silence that exceeded the timeout, if it did.
        func expired(at instant: ContinuousClock.Instant) -> Duration? {
            self.state.withLock { state in
                let silence = state.lastMessage.duration(to: instant)
                return silence > state.timeout ? state.timeout : nil
            }
        }
    }

    /// Keeps the agent subscribed to the master until the calling task is cancelled: SUBSCRIBE, handle the
    /// stream, and on any end SUBSCRIBE again with backoff (reset after each successful registration).
    func runMasterLink() async {
        var attempt = 0
        while !Task.isCancelled {
            let (registered, end) = await self.subscribeOnce()
            await self.core.streamLost()
            if Task.isCancelled { return }
            if registered { attempt = 0 }
            let delay = self.configuration.subscribeBackoff.delay(attempt: attempt, random: Double.random(in: 0..<1))
            attempt += 1
            let metadata: Logger.Metadata = [
                LogKey.master: "\(self.master.endpoint)", LogKey.retryDelay: "\(delay)", LogKey.reason: "\(end)",
            ]
            if registered {
                self.logger.warning("Lost the master stream; subscribing again", metadata: metadata)
            } else if case .rejected = end {
                self.logger.warning("Master refused SUBSCRIBE; retrying", metadata: metadata)
            } else if attempt == 1 || attempt % 10 == 0 {
                self.logger.warning("Cannot subscribe to the master; retrying", metadata: metadata)
            } else {
                self.logger.debug("Cannot subscribe to the master; retrying", metadata: metadata)
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }

    /// One SUBSCRIBE: returns whether the master registered the agent on this stream, and why it ended.
    private func subscribeOnce() async -> (registered: Bool, end: StreamEnd) {
        // A re-subscribe asked for before this SUBSCRIBE is answered by it.
        _ = await self.core.takeResubscribeRequest()
        // Updates wait while the agent is not registered; let sends still in flight settle first, so the tasks'
        // states in SUBSCRIBE include every update the master took.
        let settleDeadline = ContinuousClock.now + self.configuration.requestTimeout + .seconds(1)
        while await self.core.updatesInFlight > 0 && ContinuousClock.now < settleDeadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let call = await self.core.subscribeCall(capabilities: self.capabilities, version: self.version)
        let response: HTTPClientResponse
        do {
            response = try await self.master.subscribe(call)
        } catch let error as AgentError where error.code == .masterRejected {
            return (false, .rejected(error.message))
        } catch {
            return (false, .failed("cannot reach the master: \(error)"))
        }
        let session = StreamSession(
            openedAt: .now,
            timeout: self.configuration.defaultPingInterval * self.configuration.missedPingsBeforeReconnect)
        let end: StreamEnd
        do {
            end = try await withThrowingTaskGroup(of: StreamEnd.self) { group in
                group.addTask { try await self.read(response.body, session: session) }
                group.addTask { try await self.watch(session) }
                let first = try await group.next() ?? .closedByMaster
                group.cancelAll()
                return first
            }
        } catch {
            end = .failed("\(error)")
        }
        return (session.isRegistered, end)
    }

    /// Reads the RecordIO stream of messages until it ends or breaks the protocol.
    private func read(_ body: HTTPClientResponse.Body, session: StreamSession) async throws -> StreamEnd {
        var decoder = RecordIODecoder()
        for try await chunk in body {
            for record in try decoder.feed(chunk.readableBytesView) {
                // Any record proves the stream alive, even one this agent cannot decode.
                session.messageReceived(at: .now)
                let message: AgentMessage
                do {
                    message = try MesosJSON.decode(AgentMessage.self, from: Data(record))
                } catch {
                    self.logger.warning(
                        "Ignoring a message from the master that cannot be decoded",
                        metadata: [LogKey.error: "\(error)"])
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
            try await Task.sleep(for: .milliseconds(100))
            if await self.core.takeResubscribeRequest() {
                return .resubscribeRequested
            }
            if let timeout = session.expired(at: .now) {
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
                    metadata: [LogKey.error: "\(error)"])
            }
            let interval =
                registered.pingIntervalSeconds.flatMap { $0 > 0 ? Duration.seconds($0) : nil }
                ?? self.configuration.defaultPingInterval
            session.registered(timeout: interval * self.configuration.missedPingsBeforeReconnect)
            self.logger.info(
                "Registered with master",
                metadata: [
                    LogKey.agentID: "\(registered.agentId)", LogKey.master: "\(self.master.endpoint)",
                    "ping.interval": "\(interval)",
                ])
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
