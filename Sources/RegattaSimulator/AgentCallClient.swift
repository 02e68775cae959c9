// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RegattaCore
import RegattaHTTP
import Synchronization

/// Sends agent calls to a master's `POST /api/v1/agent` for a shard of the simulated agents.
///
/// Each call names its endpoint: SUBSCRIBE goes where the agent's master link points it (an `HTTPClient` stream),
/// UPDATE and PONG to the master that holds the agent's stream, over a few keep-alive connections per master
/// (``HTTPCallClient``, calls pipelined).
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

    /// How the master answered SUBSCRIBE.
    enum SubscribeOutcome: Sendable {
        /// `200`: the stream is open at `endpoint` (which differs from the one asked when a `307` was followed).
        case opened(HTTPClientResponse, endpoint: String)
        /// A `307` that was not followed (from a ZooKeeper-detected leader, or a second one).
        case notLeader(String)
        /// `503`: the master knows no leader yet, or is not ready.
        case unavailable(String)
        /// Any other status.
        case rejected(status: Int, message: String)
    }

    /// A client that does not follow redirects by itself (``subscribe(_:to:followRedirect:)`` decides).
    let http: HTTPClient
    let timeout: TimeAmount
    /// UPDATE and PONG clients, one per master (`host:port`), made when first needed.
    private let calls: CallClients

    /// - Parameters:
    ///   - callConnections: keep-alive connections to each master for UPDATE and PONG.
    ///   - callPipelineDepth: calls in flight on one of those connections.
    init(http: HTTPClient, timeout: TimeAmount, callConnections: Int, callPipelineDepth: Int, logger: Logger) {
        self.http = http
        self.timeout = timeout
        var configuration = HTTPCallClient.Configuration()
        configuration.connections = callConnections
        configuration.pipelineDepth = callPipelineDepth
        configuration.timeout = timeout
        configuration.connectTimeout = .seconds(10)
        configuration.maximumResponseBodyBytes = 1 << 16
        self.calls = CallClients(configuration: configuration, logger: logger)
    }

    /// The call clients of every master reached, in one place: made on first use, shut down together.
    private final class CallClients: Sendable {
        let configuration: HTTPCallClient.Configuration
        let logger: Logger
        let clients = Mutex<[String: HTTPCallClient]>([:])

        init(configuration: HTTPCallClient.Configuration, logger: Logger) {
            self.configuration = configuration
            self.logger = logger
        }

        /// The client for the master of `endpoint` (`http://host:port/api/v1/agent`).
        func client(for endpoint: String) throws -> HTTPCallClient {
            let hostPort = MasterSource.hostPort(of: endpoint)
            return try self.clients.withLock { clients in
                if let client = clients[hostPort] { return client }
                guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...])
                else {
                    throw SimulatorError(
                        .invalidConfiguration,
                        "The master endpoint \(endpoint) names no port; use host:port."
                    )
                }
                var host = String(hostPort[..<colon])
                if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                let client = HTTPCallClient(
                    host: host,
                    port: port,
                    configuration: self.configuration,
                    logger: self.logger
                )
                clients[hostPort] = client
                return client
            }
        }

        func shutdown() async {
            let clients = self.clients.withLock { clients in
                defer { clients = [:] }
                return Array(clients.values)
            }
            for client in clients { await client.shutdown() }
        }
    }

    /// Closes the SUBSCRIBE client's and the call clients' connections.
    func shutdown() async {
        try? await self.http.shutdown()
        await self.calls.shutdown()
    }

    /// The endpoint for a `--master` value: `host:port`, `host` (port 5050) or `http://host:port`.
    ///
    /// - Throws: ``SimulatorError`` for a value that is not an address.
    static func endpoint(master: String) throws -> String {
        var address = master.trimmingCharacters(in: .whitespaces)
        if address.hasPrefix("http://") { address.removeFirst("http://".count) }
        while address.hasSuffix("/") { address.removeLast() }
        guard !address.isEmpty, !address.contains("/"), !address.contains(" "), !address.hasPrefix("zk:") else {
            throw SimulatorError(
                .invalidConfiguration,
                "Master '\(master)' is not an address; write it as host:port, e.g. 127.0.0.1:5050."
            )
        }
        if let colon = address.lastIndex(of: ":") {
            guard let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
                throw SimulatorError(
                    .invalidConfiguration,
                    "Master '\(master)' has an invalid port; write it as host:port, e.g. 127.0.0.1:5050."
                )
            }
        } else {
            address += ":5050"
        }
        return "http://\(address)/api/v1/agent"
    }

    /// Opens a SUBSCRIBE stream at `endpoint`; the timeout covers the time until the response head. With
    /// `followRedirect`, one `307` is followed to its `Location`.
    ///
    /// - Throws: a transport error.
    func subscribe(_ call: AgentCall, to endpoint: String, followRedirect: Bool) async throws -> SubscribeOutcome {
        var target = endpoint
        var redirected = false
        while true {
            let response = try await self.http.execute(
                try self.request(call, endpoint: target, accept: "application/recordio"),
                timeout: self.timeout
            )
            switch response.status.code {
            case 200:
                return .opened(response, endpoint: target)
            case 301, 302, 303, 307, 308:
                let location = response.headers.first(name: "Location")
                let message = await Self.message(response)
                guard followRedirect, !redirected, let location,
                    let next = MasterSource.endpoint(location: location, relativeTo: target)
                else {
                    return .notLeader(
                        "the master at \(target) is not the leader (status \(response.status.code), location "
                            + "\(location ?? "none")): \(message)"
                    )
                }
                redirected = true
                target = next
            case 503:
                return .unavailable(await Self.message(response))
            default:
                return .rejected(status: Int(response.status.code), message: await Self.message(response))
            }
        }
    }

    /// Sends an UPDATE or PONG to `endpoint` (`http://host:port/api/v1/agent`). A call whose connection failed
    /// after it was written is not sent again here; the caller decides (status updates are retried).
    ///
    /// - Throws: transport errors (``HTTPCallError``: connection refused or lost, deadline).
    func send(_ call: AgentCall, to endpoint: String) async throws -> Outcome {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json")
        let response = try await self.calls.client(for: endpoint).execute(
            HTTPCallRequest(
                method: .POST,
                path: "/api/v1/agent",
                headers: headers,
                body: ByteBuffer(bytes: try MesosJSON.encodeFast(call))
            )
        )
        switch response.status.code {
        case 200..<300:
            return .accepted
        case 404:
            return .unknownAgent
        default:
            return .rejected(status: Int(response.status.code), message: Self.message(response.bodyText))
        }
    }

    private func request(_ call: AgentCall, endpoint: String, accept: String) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: accept)
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encodeFast(call)))
        return request
    }

    private static func message(_ response: HTTPClientResponse) async -> String {
        guard let body = try? await response.body.collect(upTo: 1 << 16), body.readableBytes > 0 else {
            return "(no message)"
        }
        return Self.message(String(buffer: body))
    }

    /// A response body as a message: trimmed, at most 300 characters.
    private static func message(_ body: String) -> String {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "(no message)" }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
