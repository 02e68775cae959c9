// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import NIOCore
import RegattaCore

/// The agent's own HTTP API: `/health`, `/state`, `/files/browse`, `/files/read`, `/metrics/snapshot` and `/metrics`.
///
/// Everything but `/health` needs credentials when the configuration's ``AgentHTTPAuthentication`` asks for them.
enum AgentHTTPAPI {
    /// Context the routes read.
    struct Context: Sendable {
        var core: AgentCore
        var configuration: AgentConfiguration
        var capabilities: [String]
        var version: String
        var startTime: Double
    }

    /// Builds the router.
    static func router(_ context: Context) -> Router<BasicRequestContext> {
        let router = Router()
        // Added before any route: Hummingbird applies a middleware to the routes added after it (and to 404s).
        router.add(middleware: AgentAuthenticationMiddleware(settings: context.configuration.httpAuthentication))
        router.get("/health") { _, _ in
            Response(status: .ok)
        }
        router.get("/state") { _, _ in
            let snapshot = await context.core.snapshot()
            let document = AgentStateDocument(
                snapshot: snapshot,
                configuration: context.configuration,
                port: snapshot.agentInfo.port ?? context.configuration.port,
                capabilities: context.capabilities,
                version: context.version,
                startTime: context.startTime
            )
            return try Self.json(document)
        }
        router.get("/files/browse") { request, _ in
            let sandboxes = await Self.sandboxes(context.core)
            let path = request.uri.queryParameters["path"].map(String.init)
            let entries: [SandboxFiles.Entry]
            do throws(SandboxFiles.Failure) {
                entries = try SandboxFiles.browse(path, sandboxes: sandboxes)
            } catch {
                return Self.failure(error)
            }
            return try Self.json(entries)
        }
        router.get("/files/read") { request, _ in
            let sandboxes = await Self.sandboxes(context.core)
            let query = request.uri.queryParameters
            let chunk: SandboxFiles.Chunk
            do throws(SandboxFiles.Failure) {
                chunk = try SandboxFiles.read(
                    query["path"].map(String.init),
                    offset: query["offset"].map(String.init),
                    length: query["length"].map(String.init),
                    sandboxes: sandboxes
                )
            } catch {
                return Self.failure(error)
            }
            return try Self.json(chunk)
        }
        router.get("/metrics/snapshot") { _, _ in
            try Self.json(await Self.metrics(context))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(string: AgentMetrics.prometheusText(await Self.metrics(context)))
                )
            )
        }
        return router
    }

    private static func metrics(_ context: Context) async -> [String: Double] {
        AgentMetrics.snapshot(
            await context.core.snapshot(),
            uptimeSeconds: max(0, Date().timeIntervalSince1970 - context.startTime)
        )
    }

    /// The sandboxes of every task the agent knows, running or finished.
    private static func sandboxes(_ core: AgentCore) async -> [String] {
        let snapshot = await core.snapshot()
        return (snapshot.liveTasks + snapshot.completedTasks).map(\.sandbox)
    }

    private static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }

    private static func failure(_ error: SandboxFiles.Failure) -> Response {
        Response(
            status: HTTPResponse.Status(code: error.status),
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: error.message + "\n"))
        )
    }
}
