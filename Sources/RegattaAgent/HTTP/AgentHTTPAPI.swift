// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import NIOCore
import RegattaCore

/// The agent's own HTTP API: `GET /health` and `GET /state`.
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
        router.get("/health") { _, _ in
            Response(status: .ok)
        }
        router.get("/state") { _, _ in
            let snapshot = await context.core.snapshot()
            let document = AgentStateDocument(
                snapshot: snapshot, configuration: context.configuration,
                port: snapshot.agentInfo.port ?? context.configuration.port, capabilities: context.capabilities,
                version: context.version, startTime: context.startTime)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(document)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }
}
