// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RegattaCore

/// Sends agent calls to the master's `POST /api/v1/agent` endpoint.
struct MasterClient: Sendable {
    /// How the master answered a call that expects `202 Accepted`.
    enum Outcome: Sendable, Equatable {
        /// A 2xx status: the master took the call.
        case accepted
        /// 404: the master does not know this agent id; the agent must SUBSCRIBE again.
        case unknownAgent(message: String)
        /// Any other status.
        case rejected(status: Int, message: String)
    }

    let http: HTTPClient
    /// `http://host:port/api/v1/agent`.
    let endpoint: String
    let requestTimeout: Duration
    let logger: Logger

    /// The endpoint URL for a `--master` value: `host:port`, `host` (port 5050) or `http://host:port`.
    ///
    /// - Throws: `AgentError.invalidConfiguration` for `zk://` masters (not supported yet) and malformed values.
    static func endpoint(master: String) throws -> String {
        var address = master.trimmingCharacters(in: .whitespaces)
        if address.hasPrefix("zk://") {
            throw AgentError(
                .invalidConfiguration,
                "Master '\(master)' uses ZooKeeper detection, which the agent does not support yet; pass the leading master as host:port."
            )
        }
        if address.hasPrefix("https://") {
            throw AgentError(
                .invalidConfiguration,
                "Master '\(master)' uses https, which the agent does not support yet; use host:port.")
        }
        if address.hasPrefix("http://") {
            address.removeFirst("http://".count)
        }
        while address.hasSuffix("/") { address.removeLast() }
        guard !address.isEmpty, !address.contains("/"), !address.contains(" ") else {
            throw AgentError(
                .invalidConfiguration,
                "Master '\(master)' is not an address; write it as host:port, e.g. 127.0.0.1:5050.")
        }
        if let colon = address.lastIndex(of: ":"), !address.hasSuffix("]") {
            guard let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
                throw AgentError(
                    .invalidConfiguration,
                    "Master '\(master)' has an invalid port; write it as host:port, e.g. 127.0.0.1:5050.")
            }
        } else {
            address += ":5050"
        }
        return "http://\(address)/api/v1/agent"
    }

    /// Opens the SUBSCRIBE stream; the timeout covers the time until the response head.
    ///
    /// - Returns: the response, whose body the caller streams (only when the status is 200).
    /// - Throws: `AgentError.masterRejected` for any other status, with the master's message.
    func subscribe(_ call: AgentCall) async throws -> HTTPClientResponse {
        let response = try await self.http.execute(
            try self.request(for: call, accept: "application/recordio"), timeout: Self.timeAmount(self.requestTimeout),
            logger: self.logger)
        guard response.status.code == 200 else {
            let message = await Self.message(from: response)
            throw AgentError(
                .masterRejected,
                "The master refused SUBSCRIBE with status \(response.status.code): \(message)")
        }
        return response
    }

    /// Sends a call that the master answers with `202` (UPDATE, PONG).
    ///
    /// - Throws: transport errors (connection refused, timeout).
    func send(_ call: AgentCall) async throws -> Outcome {
        let response = try await self.http.execute(
            try self.request(for: call, accept: "application/json"), timeout: Self.timeAmount(self.requestTimeout),
            logger: self.logger)
        let code = Int(response.status.code)
        switch code {
        case 200..<300:
            // Drain the body so the connection can be reused.
            _ = try? await response.body.collect(upTo: 1 << 16)
            return .accepted
        case 404:
            return .unknownAgent(message: await Self.message(from: response))
        default:
            return .rejected(status: code, message: await Self.message(from: response))
        }
    }

    private func request(for call: AgentCall, accept: String) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: self.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: accept)
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        return request
    }

    /// The `message` of a JSON error body (`{"message":"…"}`), else the body text, shortened.
    private static func message(from response: HTTPClientResponse) async -> String {
        guard let body = try? await response.body.collect(upTo: 1 << 16), body.readableBytes > 0 else {
            return "(no message)"
        }
        let data = Data(body.readableBytesView)
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let message = object["message"] as? String
        {
            return message
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(duration.seconds * 1e9))
    }
}
