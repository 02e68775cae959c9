// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegattaCore

extension HTTPField.Name {
    /// `Mesos-Stream-Id`, which fences a framework's calls to its current subscription.
    public static let mesosStreamID = HTTPField.Name("Mesos-Stream-Id")!
}

/// Helpers shared by the master's and agent's HTTP layers.
public enum HTTPSupport {
    /// The largest request body accepted. 16 MiB.
    public static let maximumBodySize = 16 << 20

    /// A plain-text response, as Mesos answers errors.
    public static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message)))
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
                        let data = try encoder.encode(element)
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
        router.post("/api/v1/scheduler") { request, _ in
            try await Self.schedulerCall(request, master: master)
        }
        router.post("/master/api/v1/scheduler") { request, _ in
            try await Self.schedulerCall(request, master: master)
        }
        router.post("/api/v1/agent") { request, _ in
            try await Self.agentCall(request, master: master)
        }
        router.post("/api/v1") { request, _ in try await Self.operatorCall(request, master: master) }
        router.post("/master/api/v1") { request, _ in try await Self.operatorCall(request, master: master) }
        router.get("/master/flags") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeFlags())
        }
        router.get("/metrics") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: view.prometheusText())))
        }
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/master/health") { _, _ in Response(status: .ok) }
        router.get("/master/redirect") { _, _ in
            let info = master.masterInfo
            return Response(
                status: .temporaryRedirect,
                headers: [.location: "//\(info.hostname ?? "127.0.0.1"):\(info.port)"])
        }
        router.get("/redirect") { _, _ in
            let info = master.masterInfo
            return Response(
                status: .temporaryRedirect,
                headers: [.location: "//\(info.hostname ?? "127.0.0.1"):\(info.port)"])
        }
        for path in ["/master/state", "/master/state.json", "/state", "/state.json"] {
            router.get(RouterPath(path)) { _, _ in
                let view = MasterStateView(state: await master.snapshot, master: master)
                return HTTPSupport.json(try view.encodeState())
            }
        }
        router.get("/master/state-summary") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeSummary())
        }
        router.get("/master/frameworks") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeFrameworks())
        }
        router.get("/master/slaves") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeAgents())
        }
        router.get("/master/tasks") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeTasks())
        }
        router.get("/metrics/snapshot") { _, _ in
            let view = MasterStateView(state: await master.snapshot, master: master)
            return HTTPSupport.json(try view.encodeMetrics())
        }
    }

    private static func readBody(_ request: Request) async throws -> ByteBuffer? {
        do {
            return try await request.body.collect(upTo: HTTPSupport.maximumBodySize)
        } catch {
            return nil
        }
    }

    private static func schedulerCall(_ request: Request, master: Master) async throws -> Response {
        if let contentType = request.headers[.contentType], contentType.contains("protobuf") {
            return HTTPSupport.text(
                .unsupportedMediaType, "Regatta accepts JSON only; send 'Content-Type: application/json'.")
        }
        guard let body = try await readBody(request) else {
            return HTTPSupport.text(
                .contentTooLarge, "The request body exceeds \(HTTPSupport.maximumBodySize) bytes.")
        }
        let call: SchedulerCall
        do {
            call = try MesosJSON.decode(SchedulerCall.self, from: Data(buffer: body))
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
        guard let body = try await readBody(request) else {
            return HTTPSupport.text(.contentTooLarge, "The request body exceeds \(HTTPSupport.maximumBodySize) bytes.")
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
            let (id, stream) = await master.subscribeOperator()
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
        guard let body = try await readBody(request) else {
            return HTTPSupport.text(.contentTooLarge, "The request body exceeds \(HTTPSupport.maximumBodySize) bytes.")
        }
        let call: AgentCall
        do {
            call = try MesosJSON.decode(AgentCall.self, from: Data(buffer: body))
        } catch let error as CoreError {
            return HTTPSupport.text(.badRequest, "Failed to parse the agent call: \(error.message)")
        }
        do {
            switch call.type {
            case .subscribe:
                guard let subscribe = call.subscribe else {
                    return HTTPSupport.text(.badRequest, "Expecting 'subscribe' to be present.")
                }
                let (id, connection, stream) = try await master.subscribeAgent(subscribe)
                return HTTPSupport.recordIOStream(stream, headers: [:]) {
                    await master.agentStreamEnded(id, connection: connection)
                }
            case .update:
                guard let agentID = call.agentId, let update = call.update else {
                    return HTTPSupport.text(.badRequest, "Expecting 'agent_id' and 'update' to be present.")
                }
                let delivered = try await master.agentUpdate(update, from: agentID)
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
                try await master.agentPong(from: agentID)
                return Response(status: .accepted)
            }
        } catch let error as MasterError {
            return HTTPSupport.text(.init(code: error.status), error.message)
        }
    }
}
