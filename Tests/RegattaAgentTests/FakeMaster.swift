// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import Logging
import NIOCore
import RegattaCore
import Synchronization

/// A master that speaks just enough of the agent protocol for end-to-end tests of the agent, and records
/// every call it receives.
final class FakeMaster: Sendable {
    /// An UPDATE as received, with when it arrived and whether it was accepted.
    struct ReceivedUpdate: Sendable {
        var update: AgentCall.Update
        var agentID: AgentID?
        var accepted: Bool
        var at: ContinuousClock.Instant
    }

    private struct State {
        var port: Int?
        var subscribes: [AgentCall] = []
        var updates: [ReceivedUpdate] = []
        var pongs = 0
        var rejectedSubscribes = 0
        var updateFailuresLeft: Int
        var subscribeRejectionsLeft: Int
        var updatesFailing = false
        var knowsAgent = true
        var streams: [AsyncStream<AgentMessage>.Continuation] = []
        /// The `Authorization` header of every call, with the call's type, in arrival order.
        var authorizations: [(type: AgentCall.CallType, header: String?)] = []
        var unauthorizedCalls = 0
    }

    let agentID: AgentID
    private let pingIntervalSeconds: Double?
    private let autoAcknowledge: Bool
    private let requiredAuthorization: String?
    private let state: Mutex<State>
    private let logger: Logger

    /// - Parameters:
    ///   - failFirstUpdates: how many UPDATE calls to answer 503 before accepting them.
    ///   - rejectFirstSubscribes: how many SUBSCRIBE calls to answer 400 before accepting them.
    ///   - pingIntervalSeconds: sent in REGISTERED.
    ///   - autoAcknowledge: whether every accepted update is acknowledged at once (as a framework would), with an
    ///     ACKNOWLEDGE on the stream.
    ///   - requiredAuthorization: the `Authorization` header every call must carry; other calls get Mesos's `401`.
    init(
        agentID: AgentID = "agent-e2e",
        failFirstUpdates: Int = 0,
        rejectFirstSubscribes: Int = 0,
        pingIntervalSeconds: Double? = 15,
        autoAcknowledge: Bool = true,
        requiredAuthorization: String? = nil,
        logger: Logger
    ) {
        self.requiredAuthorization = requiredAuthorization
        self.agentID = agentID
        self.pingIntervalSeconds = pingIntervalSeconds
        self.autoAcknowledge = autoAcknowledge
        self.state = Mutex(
            State(updateFailuresLeft: failFirstUpdates, subscribeRejectionsLeft: rejectFirstSubscribes)
        )
        self.logger = logger
    }

    // MARK: - Test API

    var subscribes: [AgentCall] { self.state.withLock { $0.subscribes } }
    var updates: [ReceivedUpdate] { self.state.withLock { $0.updates } }
    var acceptedStatuses: [TaskStatus] { self.updates.filter(\.accepted).map(\.update.status) }
    var pongs: Int { self.state.withLock { $0.pongs } }
    var port: Int? { self.state.withLock { $0.port } }

    /// Sends a message on the newest SUBSCRIBE stream.
    func send(_ message: AgentMessage) {
        _ = self.state.withLock { $0.streams.last }?.yield(message)
    }

    /// Acknowledges an update, as the master relays a framework's ACKNOWLEDGE.
    func acknowledge(_ status: TaskStatus, framework: FrameworkID) {
        guard let uuid = status.uuid else { return }
        self.send(.acknowledge(AgentMessage.Acknowledge(frameworkId: framework, taskId: status.taskId, uuid: uuid)))
    }

    /// Ends every open stream, as a master that restarts would.
    func closeStreams() {
        let streams = self.state.withLock { state in
            defer { state.streams = [] }
            return state.streams
        }
        for stream in streams { stream.finish() }
    }

    /// Makes UPDATE and PONG answer 404, as a master that lost the agent does; SUBSCRIBE makes it known again.
    func forgetAgent() {
        self.state.withLock { $0.knowsAgent = false }
    }

    /// Makes every UPDATE answer 503 (`true`) or be accepted again (`false`).
    func setUpdatesFailing(_ failing: Bool) {
        self.state.withLock { $0.updatesFailing = failing }
    }

    /// The `Authorization` header of every call, with its type, in arrival order.
    var authorizations: [(type: AgentCall.CallType, header: String?)] { self.state.withLock { $0.authorizations } }

    /// How many calls were answered `401`.
    var unauthorizedCalls: Int { self.state.withLock { $0.unauthorizedCalls } }

    /// How many SUBSCRIBE calls were refused.
    var rejectedSubscribes: Int { self.state.withLock { $0.rejectedSubscribes } }

    /// Accepted statuses of one task, in arrival order.
    func acceptedStates(of task: TaskID) -> [TaskState] {
        self.acceptedStatuses.filter { $0.taskId == task }.map(\.state)
    }

    /// Waits until the server listens and returns its port.
    func waitForPort() async throws -> Int {
        for _ in 0..<400 {
            if let port = self.port { return port }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw CancellationError()
    }

    // MARK: - Server

    /// Serves on 127.0.0.1 and a free port until cancelled.
    func run() async throws {
        let router = Router()
        router.post("/api/v1/agent") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            guard let call = try? MesosJSON.decode(AgentCall.self, from: Data(body.readableBytesView)) else {
                return Self.json(.badRequest, #"{"message":"malformed agent call"}"#)
            }
            let header = request.headers[.authorization]
            let authorized = self.state.withLock { state in
                state.authorizations.append((call.type, header))
                let authorized = self.requiredAuthorization == nil || header == self.requiredAuthorization
                if !authorized { state.unauthorizedCalls += 1 }
                return authorized
            }
            guard authorized else {
                return Response(
                    status: .unauthorized,
                    headers: [.wwwAuthenticate: "Basic realm=\"mesos\""],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "Unauthorized\n"))
                )
            }
            switch call.type {
            case .subscribe: return self.subscribe(call)
            case .update: return self.update(call)
            case .pong: return self.pong()
            }
        }
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                self.state.withLock { $0.port = channel.localAddress?.port }
            },
            logger: self.logger
        )
        try await app.run()
    }

    private func subscribe(_ call: AgentCall) -> Response {
        let rejected = self.state.withLock { state in
            guard state.subscribeRejectionsLeft > 0 else { return false }
            state.subscribeRejectionsLeft -= 1
            state.rejectedSubscribes += 1
            return true
        }
        if rejected {
            return Self.json(.badRequest, #"{"message":"Agent resources are invalid; fix --resources"}"#)
        }
        let (stream, continuation) = AsyncStream<AgentMessage>.makeStream(bufferingPolicy: .unbounded)
        self.state.withLock { state in
            state.subscribes.append(call)
            state.knowsAgent = true
            state.streams.append(continuation)
        }
        continuation.yield(
            .registered(
                AgentMessage.Registered(
                    agentId: self.agentID,
                    masterInfo: MasterInfo(
                        id: "master-1",
                        ip: "127.0.0.1",
                        port: 5050,
                        hostname: "master",
                        version: "test"
                    ),
                    pingIntervalSeconds: self.pingIntervalSeconds
                )
            )
        )
        return Response(
            status: .ok,
            headers: [.contentType: "application/recordio"],
            body: ResponseBody { writer in
                for await message in stream {
                    let record = RecordIO.encode(try MesosJSON.encode(message))
                    try await writer.write(ByteBuffer(bytes: record))
                }
                try await writer.finish(nil)
            }
        )
    }

    private func update(_ call: AgentCall) -> Response {
        guard let update = call.update else { return Self.json(.badRequest, #"{"message":"UPDATE needs 'update'"}"#) }
        let answer: HTTPResponse.Status = self.state.withLock { state in
            guard state.knowsAgent else {
                state.updates.append(ReceivedUpdate(update: update, agentID: call.agentId, accepted: false, at: .now))
                return .notFound
            }
            if state.updatesFailing || state.updateFailuresLeft > 0 {
                state.updateFailuresLeft = max(0, state.updateFailuresLeft - 1)
                state.updates.append(ReceivedUpdate(update: update, agentID: call.agentId, accepted: false, at: .now))
                return .serviceUnavailable
            }
            state.updates.append(ReceivedUpdate(update: update, agentID: call.agentId, accepted: true, at: .now))
            return .accepted
        }
        switch answer {
        case .notFound: return Self.json(.notFound, #"{"message":"Agent is not registered; SUBSCRIBE again"}"#)
        case .serviceUnavailable: return Self.json(.serviceUnavailable, #"{"message":"try again"}"#)
        default:
            if self.autoAcknowledge {
                self.acknowledge(update.status, framework: update.frameworkId)
            }
            return Response(status: .accepted)
        }
    }

    private func pong() -> Response {
        let known = self.state.withLock { state in
            if state.knowsAgent { state.pongs += 1 }
            return state.knowsAgent
        }
        return known
            ? Response(status: .accepted)
            : Self.json(.notFound, #"{"message":"Agent is not registered; SUBSCRIBE again"}"#)
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}
