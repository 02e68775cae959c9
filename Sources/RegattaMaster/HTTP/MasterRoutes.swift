// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import RegattaCore
import RegattaHTTP

extension HTTPField.Name {
    /// `Mesos-Stream-Id`, which fences a framework's calls to its current subscription.
    public static let mesosStreamID = HTTPField.Name("Mesos-Stream-Id")!
}

/// Helpers shared by the master's and agent's HTTP layers.
public enum HTTPSupport {
    /// The largest request body accepted. 16 MiB.
    public static let maximumBodySize = 16 << 20

    /// The answer to a body over ``maximumBodySize`` (the listener refuses one announced by `Content-Length`
    /// before it is read; this one crossed the limit while being read).
    /// Whether reading a body failed because it crossed the limit (rather than because its framing was malformed).
    public static func isTooLarge(_ error: any Error) -> Bool {
        if error is RequestBodyTooLargeError { return true }
        if let error = error as? HTTPError, error.status == .contentTooLarge { return true }
        return false
    }

    static var bodyTooLarge: Response {
        HTTPSupport.text(.contentTooLarge, RequestBodyTooLargeError(limit: HTTPSupport.maximumBodySize).message)
    }

    /// A plain-text response, as Mesos answers errors.
    public static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message)))
    }

    /// A JSON response from bytes already written.
    public static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A JSON response.
    public static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A streaming RecordIO response that writes each element of `stream` as one record and calls
    /// `onEnd` when the stream finishes or the client goes away.
    public static func recordIOStream<Element: Encodable & Sendable>(
        _ stream: AsyncStream<Element>, headers: HTTPFields, onEnd: @escaping @Sendable () async -> Void
    ) -> Response {
        var headers = headers
        headers[.contentType] = headers[.contentType] ?? "application/json"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let encoder = MesosJSON.encoder()
                do {
                    for await element in stream {
                        let data = try MesosJSON.encodeFast(element, orWith: encoder)
                        try await writer.write(ByteBuffer(bytes: RecordIO.encode(data)))
                    }
                } catch {
                    // The client went away; fall through to clean up.
                }
                await onEnd()
                try? await writer.finish(nil)
            })
    }
}

/// The master's HTTP API: the v1 scheduler API, the agent protocol and the read-only endpoints.
public struct MasterRoutes: Sendable {
    public let master: Master

    public init(master: Master) {
        self.master = master
    }

    /// Adds the master's routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let master = self.master
        let leadership = master.leadership
        // Only the leader serves the APIs and the state endpoints; other masters redirect (307) or answer 503.
        router.post("/api/v1/scheduler") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            return try await Self.schedulerCall(request, master: master)
        }
        router.post("/master/api/v1/scheduler") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            return try await Self.schedulerCall(request, master: master)
        }
        router.post("/api/v1/agent") { request, _ in
            // Agents re-registering with a just-elected master wait for it rather than back off (see the method).
            if leadership.isRecovering { await leadership.waitWhileRecovering(atMost: .seconds(10)) }
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            return try await Self.agentCall(request, master: master)
        }
        router.post("/api/v1") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            return try await Self.operatorCall(request, master: master)
        }
        router.post("/master/api/v1") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            return try await Self.operatorCall(request, master: master)
        }
        router.get("/master/flags") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeFlags())
        }
        router.get("/metrics") { _, _ in
            let state = await master.snapshot
            let text = MasterMetrics(
                state: state, elected: leadership.isElected, uptimeSeconds: master.now() - master.startTime
            ).prometheusText
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/master/health") { _, _ in Response(status: .ok) }
        router.get("/master/redirect") { _, _ in
            LeaderRedirect.redirectEndpoint(leadership, selfInfo: master.masterInfo)
        }
        router.get("/redirect") { _, _ in
            LeaderRedirect.redirectEndpoint(leadership, selfInfo: master.masterInfo)
        }
        // One render at a time, off the cooperative pool, shared by the requests that arrived before it began.
        let stateRenderer = StateDocumentRenderer {
            let state = await master.snapshot
            return try await NIOThreadPool.singleton.runIfActive {
                try MasterStateView(state: state, master: master).encodeStateBytes()
            }
        }
        for path in ["/master/state", "/master/state.json", "/state", "/state.json"] {
            router.get(RouterPath(path)) { request, _ in
                if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
                return HTTPSupport.json(bytes: try await stateRenderer.document())
            }
        }
        router.get("/master/state-summary") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeSummary())
        }
        router.get("/master/frameworks") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeFrameworks())
        }
        router.get("/master/slaves") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeAgents())
        }
        router.get("/master/tasks") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeTasks())
        }
        router.get("/metrics/snapshot") { _, _ in
            let state = await master.snapshot
            let metrics = MasterMetrics(
                state: state, elected: leadership.isElected, uptimeSeconds: master.now() - master.startTime
            ).values
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            return HTTPSupport.json(try encoder.encode(metrics))
        }
    }

    /// The request's body, or the answer for a body that is too large (`413`) or cannot be read (`400`, e.g. a
    /// malformed chunk size).
    private static func readBody(_ request: Request) async -> Result<ByteBuffer, BodyRefusal> {
        do {
            return .success(try await request.body.collect(upTo: HTTPSupport.maximumBodySize))
        } catch {
            if HTTPSupport.isTooLarge(error) { return .failure(BodyRefusal(response: HTTPSupport.bodyTooLarge)) }
            return .failure(
                BodyRefusal(
                    response: HTTPSupport.text(
                        .badRequest, "The request body could not be read (\(error)); send a valid HTTP/1.1 body.")))
        }
    }

    private struct BodyRefusal: Error {
        var response: Response
    }

    private static func schedulerCall(_ request: Request, master: Master) async throws -> Response {
        if let contentType = request.headers[.contentType], contentType.contains("protobuf") {
            return HTTPSupport.text(
                .unsupportedMediaType, "Regatta accepts JSON only; send 'Content-Type: application/json'.")
        }
        let body: ByteBuffer
        switch await readBody(request) {
        case .success(let read): body = read
        case .failure(let refusal): return refusal.response
        }
        let call: SchedulerCall
        do {
            call = try body.withUnsafeReadableBytes { try MesosJSON.decodeFast(SchedulerCall.self, from: $0) }
        } catch let error as CoreError {
            return HTTPSupport.text(.badRequest, "Failed to parse the call: \(error.message)")
        }
        do {
            if call.type == .subscribe {
                guard let subscribe = call.subscribe else {
                    return HTTPSupport.text(.badRequest, "Expecting 'subscribe' to be present.")
                }
                if let callID = call.frameworkId, let infoID = subscribe.frameworkInfo.id, callID != infoID {
                    return HTTPSupport.text(
                        .badRequest, "'framework_id' differs from 'subscribe.framework_info.id'.")
                }
                var subscribeCall = subscribe
                if subscribeCall.frameworkInfo.id == nil { subscribeCall.frameworkInfo.id = call.frameworkId }
                let (id, streamID, stream) = try await master.subscribe(subscribeCall)
                return HTTPSupport.recordIOStream(stream, headers: [.mesosStreamID: streamID]) {
                    await master.frameworkStreamEnded(id, streamID: streamID)
                }
            }
            try await master.handle(call, streamID: request.headers[.mesosStreamID])
            return Response(status: .accepted)
        } catch let error as MasterError {
            return HTTPSupport.text(.init(code: error.status), error.message)
        }
    }

    private static func operatorCall(_ request: Request, master: Master) async throws -> Response {
        let body: ByteBuffer
        switch await readBody(request) {
        case .success(let read): body = read
        case .failure(let refusal): return refusal.response
        }
        let call: OperatorAPI.Call
        do {
            call = try MesosJSON.decode(OperatorAPI.Call.self, from: Data(buffer: body))
        } catch let error as CoreError {
            return HTTPSupport.text(.badRequest, "Failed to parse the call: \(error.message)")
        }
        do {
            if try await master.agentOperation(call) { return Response(status: .ok) }
        } catch let error as MasterError {
            return HTTPSupport.text(.init(code: error.status), error.message)
        }
        if call.type == "SUBSCRIBE" {
            guard let (id, stream) = await master.subscribeOperator() else {
                return HTTPSupport.text(
                    .serviceUnavailable,
                    "Too many operator event streams are open (\(master.configuration.maxOperatorSubscribers), "
                        + "--max_operator_subscribers); close one or retry later.")
            }
            return HTTPSupport.recordIOStream(stream, headers: [:]) { await master.operatorStreamEnded(id) }
        }
        guard let message = await master.operatorCall(call.type) else {
            return HTTPSupport.text(
                .badRequest,
                "Operator call '\(call.type)' is not supported; use GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS, GET_HEALTH, GET_VERSION or SUBSCRIBE."
            )
        }
        return HTTPSupport.json(try MesosJSON.encode(message))
    }

    private static func agentCall(_ request: Request, master: Master) async throws -> Response {
        let body: ByteBuffer
        switch await readBody(request) {
        case .success(let read): body = read
        case .failure(let refusal): return refusal.response
        }
        let call: AgentCall
        do {
            call = try body.withUnsafeReadableBytes { try MesosJSON.decodeFast(AgentCall.self, from: $0) }
        } catch let error as CoreError {
            return HTTPSupport.text(.badRequest, "Failed to parse the agent call: \(error.message)")
        }
        do {
            switch call.type {
            case .subscribe:
                guard let subscribe = call.subscribe else {
                    return HTTPSupport.text(.badRequest, "Expecting 'subscribe' to be present.")
                }
                let (id, connection, stream) = try await master.subscribeAgent(
                    subscribe, token: call.registrationToken)
                return HTTPSupport.recordIOStream(stream, headers: [:]) {
                    await master.agentStreamEnded(id, connection: connection)
                }
            case .update:
                guard let agentID = call.agentId, let update = call.update else {
                    return HTTPSupport.text(.badRequest, "Expecting 'agent_id' and 'update' to be present.")
                }
                let delivered = try await master.agentUpdate(update, from: agentID, token: call.registrationToken)
                if !delivered {
                    return HTTPSupport.text(
                        .serviceUnavailable,
                        "Framework '\(update.frameworkId)' is disconnected; retry the update later.")
                }
                return Response(status: .accepted)
            case .pong:
                guard let agentID = call.agentId else {
                    return HTTPSupport.text(.badRequest, "Expecting 'agent_id' to be present.")
                }
                try await master.agentPong(from: agentID, token: call.registrationToken)
                return Response(status: .accepted)
            }
        } catch let error as MasterError {
            return HTTPSupport.text(.init(code: error.status), error.message)
        }
    }
}
