// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RegattaCore

/// Sends agent calls to the master's `POST /api/v1/agent`, for every simulated agent over one shared client.
struct AgentCallClient: Sendable {
    /// How the master answered a call that expects `202 Accepted`.
    enum Outcome: Sendable, Equatable {
        /// A 2xx status: the master took the call.
        case accepted
        /// 404: the master does not know the agent id; the agent must SUBSCRIBE again.
        case unknownAgent
        /// Any other status.
        case rejected(status: Int, message: String)
    }

    let http: HTTPClient
    /// `http://host:port/api/v1/agent`.
    let endpoint: String
    let timeout: TimeAmount

    /// The endpoint for a `--master` value: `host:port`, `host` (port 5050) or `http://host:port`.
    ///
    /// - Throws: ``SimulatorError`` for a value that is not an address.
    static func endpoint(master: String) throws -> String {
        var address = master.trimmingCharacters(in: .whitespaces)
        if address.hasPrefix("http://") { address.removeFirst("http://".count) }
        while address.hasSuffix("/") { address.removeLast() }
        guard !address.isEmpty, !address.contains("/"), !address.contains(" "), !address.hasPrefix("zk:") else {
            throw SimulatorError(
                .invalidConfiguration, "Master '\(master)' is not an address; write it as host:port, e.g. 127.0.0.1:5050.")
        }
        if let colon = address.lastIndex(of: ":") {
            guard let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
                throw SimulatorError(
                    .invalidConfiguration, "Master '\(master)' has an invalid port; write it as host:port, e.g. 127.0.0.1:5050.")
            }
        } else {
            address += ":5050"
        }
        return "http://\(address)/api/v1/agent"
    }

    /// Opens a SUBSCRIBE stream; the timeout covers the time until the response head.
    ///
    /// - Throws: ``SimulatorError`` (`masterRejected`) for a status other than 200, or a transport error.
    func subscribe(_ call: AgentCall) async throws -> HTTPClientResponse {
        let response = try await self.http.execute(try self.request(call, accept: "application/recordio"), timeout: self.timeout)
        guard response.status.code == 200 else {
            let message = await Self.message(response)
            throw SimulatorError(.masterRejected, "The master refused SUBSCRIBE with \(response.status.code): \(message)")
        }
        return response
    }

    /// Sends an UPDATE or PONG. - Throws: transport errors (connection refused, timeout).
    func send(_ call: AgentCall) async throws -> Outcome {
        let response = try await self.http.execute(try self.request(call, accept: "application/json"), timeout: self.timeout)
        switch response.status.code {
        case 200..<300:
            // Drain the body so the connection goes back to the pool.
            _ = try? await response.body.collect(upTo: 1 << 16)
            return .accepted
        case 404:
            _ = try? await response.body.collect(upTo: 1 << 16)
            return .unknownAgent
        default:
            return .rejected(status: Int(response.status.code), message: await Self.message(response))
        }
    }

    private func request(_ call: AgentCall, accept: String) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: self.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: accept)
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        return request
    }

    private static func message(_ response: HTTPClientResponse) async -> String {
        guard let body = try? await response.body.collect(upTo: 1 << 16), body.readableBytes > 0 else {
            return "(no message)"
        }
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
