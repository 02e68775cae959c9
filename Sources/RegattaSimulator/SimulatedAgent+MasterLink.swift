// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import RegattaCore

extension SimulatedAgent {
    /// Why a SUBSCRIBE stream ended.
    enum StreamEnd: Sendable, CustomStringConvertible {
        case failed(String)
        case closedByMaster
        case masterError(String)
        case pingTimeout(Duration)
        case resubscribeRequested

        var description: String {
            switch self {
            case .failed(let message): message
            case .closedByMaster: "the master closed the stream"
            case .masterError(let message): "the master sent ERROR: \(message)"
            case .pingTimeout(let timeout): "no message from the master for \(timeout)"
            case .resubscribeRequested: "the master does not know this agent"
            }
        }
    }

    /// Keeps the agent subscribed until the calling task is cancelled: SUBSCRIBE, read the stream, and on any
    /// end SUBSCRIBE again with backoff (reset once a stream registered), as the real agent does.
    func runMasterLink() async {
        var attempt = 0
        while !Task.isCancelled {
            let (registered, end) = await self.subscribeOnce()
            if Task.isCancelled { return }
            if registered {
                attempt = 0
                self.counters.update {
                    $0.streamsLost += 1
                    $0.registeredAgents -= 1
                }
            } else {
                self.counters.update { $0.subscribeFailures += 1 }
            }
            let random = self.state.withLock { $0.random.unit() }
            let delay = self.configuration.subscribeBackoff.delay(attempt: attempt, random: random)
            attempt += 1
            self.logger.debug(
                registered ? "Lost the master stream; subscribing again" : "Cannot subscribe to the master; retrying",
                metadata: [LogKey.reason: "\(end)", LogKey.retryDelay: "\(delay)"])
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }

    /// The SUBSCRIBE call: the agent's info with its id (once it has one) and every task it knows, including
    /// finished ones whose terminal update the master has not taken yet.
    private func subscribeCall(state: State) -> AgentCall {
        var info = self.info
        info.id = state.agentID
        let tasks = state.tasks.values.sorted { $0.info.taskId < $1.info.taskId }
            .map { AgentTask(frameworkId: $0.frameworkID, task: $0.info, state: $0.state) }
        return .subscribe(.init(agentInfo: info, tasks: tasks, capabilities: [], version: self.configuration.version))
    }

    /// One SUBSCRIBE: returns whether the master registered the agent on this stream, and why it ended.
    private func subscribeOnce() async -> (registered: Bool, end: StreamEnd) {
        let session = StreamSession(
            openedAt: .now, timeout: self.configuration.defaultPingInterval * self.configuration.missedPingsBeforeReconnect)
        let call = self.state.withLock { state in
            state.session = session
            return self.subscribeCall(state: state)
        }
        defer {
            self.state.withLock { state in
                if state.session === session { state.session = nil }
            }
        }
        let response: HTTPClientResponse
        do {
            response = try await self.client.subscribe(call)
        } catch {
            return (false, .failed("\(error)"))
        }
        let end: StreamEnd
        do {
            end = try await withThrowingTaskGroup(of: StreamEnd.self) { group in
                group.addTask { try await self.read(response.body, session: session) }
                group.addTask { try await self.watch(session) }
                group.addTask {
                    await session.waitForResubscribeRequest()
                    return .resubscribeRequested
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

    /// Reads the RecordIO stream until it ends or breaks the protocol.
    private func read(_ body: HTTPClientResponse.Body, session: StreamSession) async throws -> StreamEnd {
        var decoder = RecordIODecoder()
        for try await chunk in body {
            for record in try decoder.feed(chunk.readableBytesView) {
                // Any record proves the stream alive, even one the agent cannot decode.
                session.messageReceived(at: .now)
                guard let message = try? MesosJSON.decode(AgentMessage.self, from: Data(record)) else {
                    self.logger.debug("Ignoring a message from the master that cannot be decoded")
                    continue
                }
                if let end = self.handle(message, session: session) { return end }
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
    private func handle(_ message: AgentMessage, session: StreamSession) -> StreamEnd? {
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
                return previous
            }
            if let previous, previous != registered.agentId {
                self.logger.warning(
                    "The master assigned a different agent id; adopting it",
                    metadata: ["requested": "\(previous)", LogKey.agentID: "\(registered.agentId)"])
            }
            let interval = registered.pingIntervalSeconds.flatMap { $0 > 0 ? Duration.seconds($0) : nil }
                ?? self.configuration.defaultPingInterval
            session.registered(timeout: interval * self.configuration.missedPingsBeforeReconnect)
            self.counters.update {
                $0.registrations += 1
                $0.registeredAgents += 1
                if previous != nil { $0.reregistrations += 1 }
            }
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
