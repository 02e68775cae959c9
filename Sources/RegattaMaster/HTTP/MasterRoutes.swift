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

    /// A plain-text response, as Mesos answers errors.
    public static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message))
        )
    }

    /// A JSON response from bytes already written.
    public static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// A JSON response.
    public static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// A streaming RecordIO response that writes each element of `stream` as one record and calls
    /// `onEnd` when the stream finishes or the client goes away.
    public static func recordIOStream<Element: Encodable & Sendable>(
        _ stream: AsyncStream<Element>,
        headers: HTTPFields,
        onEnd: @escaping @Sendable () async -> Void
    ) -> Response {
        var headers = headers
        headers[.contentType] = headers[.contentType] ?? "application/json"
        return Response(
            status: .ok,
            headers: headers,
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
            }
        )
    }
}

/// An error of the master's HTTP API, answered as Mesos answers errors: the status, and the message as plain text.
///
/// Route handlers throw it, or a ``MasterError``, which ``MesosErrorMiddleware`` answers with ``init(_:)``.
public struct MesosAPIError: HTTPResponseError, Sendable {
    /// The response's status.
    public var status: HTTPResponse.Status
    /// The body.
    public var message: String

    /// An error answered with `status` and `message`.
    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The answer to a master error: its ``MasterError/status`` and message.
    public init(_ error: MasterError) {
        self.init(HTTPResponse.Status(code: error.status), error.message)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        HTTPSupport.text(self.status, self.message)
    }
}

/// Answers a ``MasterError`` thrown by a route as ``MesosAPIError/init(_:)`` does; other errors pass through.
struct MesosErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as MasterError {
            return try MesosAPIError(error).response(from: request, context: context)
        }
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
        let authentication = master.configuration.authentication
        let filtersViews = master.configuration.acls != nil
        let router = router.group().add(middleware: MesosErrorMiddleware<Context>())
            .add(middleware: MasterAuthenticationMiddleware<Context>(authentication: authentication))
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
        for path in ["/master/teardown", "/teardown"] {
            router.post(RouterPath(path)) { request, _ in
                if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
                return try await Self.teardown(request, master: master)
            }
        }
        router.get("/master/flags") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeFlags())
        }
        router.get("/metrics") { _, _ in
            let state = await master.snapshot
            let text = MasterMetrics(
                state: state,
                elected: leadership.isElected,
                uptimeSeconds: master.now() - master.startTime
            ).prometheusText
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
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
                guard filtersViews else { return HTTPSupport.json(bytes: try await stateRenderer.document()) }
                // With --acls each caller sees its own document: rendered for it alone.
                let state = await master.snapshot.visible(to: MasterCaller.current.principal)
                return HTTPSupport.json(
                    bytes: try await NIOThreadPool.singleton.runIfActive {
                        try MasterStateView(state: state, master: master).encodeStateBytes()
                    }
                )
            }
        }
        router.get("/master/state-summary") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await Self.visibleState(master), master: master)
            return HTTPSupport.json(try view.encodeSummary())
        }
        router.get("/master/frameworks") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await Self.visibleState(master), master: master)
            return HTTPSupport.json(try view.encodeFrameworks())
        }
        router.get("/master/slaves") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await Self.visibleState(master), master: master)
            return HTTPSupport.json(try view.encodeAgents())
        }
        router.get("/master/tasks") { request, _ in
            if let answer = LeaderRedirect.gate(leadership, request: request) { return answer }
            let view = MasterStateView(state: await Self.visibleState(master), master: master)
            return HTTPSupport.json(try view.encodeTasks())
        }
        router.get("/metrics/snapshot") { _, _ in
            let state = await master.snapshot
            let metrics = MasterMetrics(
                state: state,
                elected: leadership.isElected,
                uptimeSeconds: master.now() - master.startTime
            ).values
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            return HTTPSupport.json(try encoder.encode(metrics))
        }
    }

    /// The master's state as the request's caller may view it (``MasterState/visible(to:)``).
    private static func visibleState(_ master: Master) async -> MasterState {
        await master.snapshot.visible(to: MasterCaller.current.principal)
    }

    /// `POST /master/teardown` with the form `frameworkId=<id>` (Mesos's v0 endpoint).
    private static func teardown(_ request: Request, master: Master) async throws -> Response {
        let body = try await readBody(request)
        let form = String(buffer: body)
        let pairs = form.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
        guard let value = pairs.first(where: { $0.first == "frameworkId" })?.dropFirst().first,
            let id = value.removingPercentEncoding, !id.isEmpty
        else {
            throw MesosAPIError(.badRequest, "Missing 'frameworkId' in the form body; send frameworkId=<framework id>.")
        }
        try await master.teardown(FrameworkID(id), principal: MasterCaller.current.principal)
        return Response(status: .ok)
    }

    /// The request's body; a body that is too large is refused with `413`, one that cannot be read (e.g. a
    /// malformed chunk size) with `400`.
    private static func readBody(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: HTTPSupport.maximumBodySize)
        } catch {
            if HTTPSupport.isTooLarge(error) {
                throw MesosAPIError(
                    .contentTooLarge,
                    RequestBodyTooLargeError(limit: HTTPSupport.maximumBodySize).message
                )
            }
            throw MesosAPIError(
                .badRequest,
                "The request body could not be read (\(error)); send a valid HTTP/1.1 body."
            )
        }
    }

    /// Decodes a call, refusing one that does not parse with `400` and `<what>: <reason>`.
    private static func decode<Call>(_ what: String, _ decode: () throws -> Call) throws -> Call {
        do {
            return try decode()
        } catch let error as CoreError {
            throw MesosAPIError(.badRequest, "\(what): \(error.message)")
        }
    }

    private static func schedulerCall(_ request: Request, master: Master) async throws -> Response {
        if let contentType = request.headers[.contentType], contentType.contains("protobuf") {
            throw MesosAPIError(
                .unsupportedMediaType,
                "Regatta accepts JSON only; send 'Content-Type: application/json'."
            )
        }
        let body = try await readBody(request)
        let call = try Self.decode("Failed to parse the call") {
            try body.withUnsafeReadableBytes { try MesosJSON.decodeFast(SchedulerCall.self, from: $0) }
        }
        if call.type == .subscribe {
            guard let subscribe = call.subscribe else {
                throw MesosAPIError(.badRequest, "Expecting 'subscribe' to be present.")
            }
            if let callID = call.frameworkId, let infoID = subscribe.frameworkInfo.id, callID != infoID {
                throw MesosAPIError(.badRequest, "'framework_id' differs from 'subscribe.framework_info.id'.")
            }
            var subscribeCall = subscribe
            if subscribeCall.frameworkInfo.id == nil { subscribeCall.frameworkInfo.id = call.frameworkId }
            let (id, streamID, stream) = try await master.subscribe(
                subscribeCall,
                principal: MasterCaller.current.principal
            )
            return HTTPSupport.recordIOStream(stream, headers: [.mesosStreamID: streamID]) {
                await master.frameworkStreamEnded(id, streamID: streamID)
            }
        }
        try await master.handle(
            call,
            streamID: request.headers[.mesosStreamID],
            principal: MasterCaller.current.principal
        )
        return Response(status: .accepted)
    }

    private static func operatorCall(_ request: Request, master: Master) async throws -> Response {
        let body = try await readBody(request)
        let call = try Self.decode("Failed to parse the call") {
            try MesosJSON.decode(OperatorAPI.Call.self, from: Data(buffer: body))
        }
        let caller = MasterCaller.current
        try master.configuration.authentication.requireCaller(caller, forWrite: !call.type.hasPrefix("GET_"))
        if try await master.agentOperation(call, principal: caller.principal) { return Response(status: .ok) }
        if call.type == "TEARDOWN" {
            guard let id = call.teardown?.frameworkId else {
                throw MesosAPIError(.badRequest, "Expecting 'teardown.framework_id' to be present.")
            }
            try await master.teardown(id, principal: caller.principal)
            return Response(status: .ok)
        }
        if call.type == "SUBSCRIBE" {
            guard let (id, stream) = await master.subscribeOperator(principal: caller.principal) else {
                throw MesosAPIError(
                    .serviceUnavailable,
                    "Too many operator event streams are open (\(master.configuration.maxOperatorSubscribers), "
                        + "--max_operator_subscribers); close one or retry later."
                )
            }
            return HTTPSupport.recordIOStream(stream, headers: [:]) { await master.operatorStreamEnded(id) }
        }
        guard let message = await master.operatorCall(call.type, principal: caller.principal) else {
            throw MesosAPIError(
                .badRequest,
                "Operator call '\(call.type)' is not supported; use GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS, "
                    + "GET_EXECUTORS, GET_HEALTH, GET_VERSION, SUBSCRIBE, TEARDOWN, DRAIN_AGENT, MARK_AGENT_GONE, "
                    + "DEACTIVATE_AGENT or REACTIVATE_AGENT."
            )
        }
        return HTTPSupport.json(try MesosJSON.encode(message))
    }

    private static func agentCall(_ request: Request, master: Master) async throws -> Response {
        let body = try await readBody(request)
        let call = try Self.decode("Failed to parse the agent call") {
            try body.withUnsafeReadableBytes { try MesosJSON.decodeFast(AgentCall.self, from: $0) }
        }
        switch call.type {
        case .subscribe:
            guard let subscribe = call.subscribe else {
                throw MesosAPIError(.badRequest, "Expecting 'subscribe' to be present.")
            }
            let (id, connection, stream) = try await master.subscribeAgent(
                subscribe,
                token: call.registrationToken,
                principal: MasterCaller.current.principal
            )
            return HTTPSupport.recordIOStream(stream, headers: [:]) {
                await master.agentStreamEnded(id, connection: connection)
            }
        case .update:
            guard let agentID = call.agentId, let update = call.update else {
                throw MesosAPIError(.badRequest, "Expecting 'agent_id' and 'update' to be present.")
            }
            let delivered = try await master.agentUpdate(
                update,
                from: agentID,
                token: call.registrationToken,
                principal: MasterCaller.current.principal
            )
            if !delivered {
                throw MesosAPIError(
                    .serviceUnavailable,
                    "Framework '\(update.frameworkId)' is disconnected; retry the update later."
                )
            }
            return Response(status: .accepted)
        case .pong:
            guard let agentID = call.agentId else {
                throw MesosAPIError(.badRequest, "Expecting 'agent_id' to be present.")
            }
            try await master.agentPong(
                from: agentID,
                token: call.registrationToken,
                principal: MasterCaller.current.principal
            )
            return Response(status: .accepted)
        }
    }
}
