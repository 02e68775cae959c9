// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RegattaCoordination
import RegattaCore
import Synchronization

/// Sends agent calls to the master's `POST /api/v1/agent` endpoint.
///
/// SUBSCRIBE goes to the endpoint the master link chooses (the fixed master, or the leader ZooKeeper names); once the
/// stream is open, UPDATE and PONG go to the master that holds it (``sessionEndpoint``), so they follow a `307` the
/// SUBSCRIBE followed and never reach a master the agent is not registered with.
final class MasterClient: Sendable {
    /// How the master answered a call that expects `202 Accepted`.
    enum Outcome: Sendable, Equatable {
        /// A 2xx status: the master took the call.
        case accepted
        /// 404: the master does not know this agent id; the agent must SUBSCRIBE again.
        case unknownAgent(message: String)
        /// Any other status.
        case rejected(status: Int, message: String)
    }

    /// How the master answered SUBSCRIBE.
    enum SubscribeOutcome: Sendable {
        /// `200`: the stream is open at `endpoint` (which differs from the one asked when a `307` was followed).
        case opened(HTTPClientResponse, endpoint: String)
        /// `307` that was not followed (a ZooKeeper-detected leader that says it is not leading, or a second
        /// redirect), or a redirect to a master other than the detected leader.
        case notLeader(String)
        /// `503`: the master knows no leader yet, or is not ready.
        case unavailable(String)
        /// `401` or `403`: the master did not accept the agent's credential (or wants one).
        case unauthorized(status: Int, message: String)
        /// Any other status.
        case rejected(status: Int, message: String)
    }

    let http: HTTPClient
    /// Where the master is found.
    let source: MasterSource
    /// The leader as detected, for a `zk://` source (unused for a fixed master).
    let leading = LeadingMaster()
    let requestTimeout: Duration
    /// The ZooKeeper session timeout of the leader detector.
    let zkSessionTimeout: Duration
    /// Finds the leading master of a `zk://` source (`nil` for a fixed master).
    let detector: (any MasterDetector)?
    let logger: Logger
    /// What the agent presents to the master (`--credential`); `nil` sends no `Authorization` header.
    let credential: Credential?
    private let session = Mutex<String?>(nil)

    init(
        http: HTTPClient,
        source: MasterSource,
        requestTimeout: Duration,
        zkSessionTimeout: Duration,
        detector: (any MasterDetector)? = nil,
        credential: Credential? = nil,
        logger: Logger
    ) {
        self.credential = credential
        self.http = http
        self.source = source
        self.requestTimeout = requestTimeout
        self.zkSessionTimeout = zkSessionTimeout
        self.detector = detector
        self.logger = logger
    }

    /// The endpoint of the master whose SUBSCRIBE stream is open, `nil` while none is.
    var sessionEndpoint: String? { self.session.withLock { $0 } }

    /// Forgets the master of the stream that ended; calls fail until the next SUBSCRIBE opens one.
    func endSession() {
        self.session.withLock { $0 = nil }
    }

    /// The endpoint URL for a `--master` value: `host:port`, `host` (port 5050), `http://host:port` or
    /// `https://host:port`; a bare address gets `defaultScheme` (`https` once `--tls_ca_file` is given).
    ///
    /// - Throws: `AgentError.invalidConfiguration` for `zk://` masters (``MasterSource`` parses those) and malformed
    ///   values.
    static func endpoint(master: String, defaultScheme: String = "http") throws -> String {
        var address = master.trimmingCharacters(in: .whitespaces)
        if address.hasPrefix("zk://") {
            throw AgentError(
                .invalidConfiguration,
                "Master '\(master)' is a ZooKeeper URL, not an address; give it as the agent's --master, which follows "
                    + "the leader it names."
            )
        }
        var scheme = defaultScheme
        for prefix in ["https", "http"] where address.hasPrefix("\(prefix)://") {
            scheme = prefix
            address.removeFirst("\(prefix)://".count)
            break
        }
        while address.hasSuffix("/") { address.removeLast() }
        guard !address.isEmpty, !address.contains("/"), !address.contains(" ") else {
            throw AgentError(
                .invalidConfiguration,
                "Master '\(master)' is not an address; write it as host:port, e.g. 127.0.0.1:5050."
            )
        }
        if let colon = address.lastIndex(of: ":"), !address.hasSuffix("]") {
            guard let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
                throw AgentError(
                    .invalidConfiguration,
                    "Master '\(master)' has an invalid port; write it as host:port, e.g. 127.0.0.1:5050."
                )
            }
        } else {
            address += ":5050"
        }
        return "\(scheme)://\(address)/api/v1/agent"
    }

    /// Opens the SUBSCRIBE stream at `endpoint`; the timeout covers the time until the response head.
    ///
    /// With `followRedirect`, a `307` is followed once (to the `Location` it names); without it, a `307` and any
    /// redirect the HTTP client followed by itself end as ``SubscribeOutcome/notLeader(_:)``. On `200` the stream's
    /// master becomes ``sessionEndpoint``.
    ///
    /// - Throws: transport errors (connection refused, timeout).
    func subscribe(_ call: AgentCall, to endpoint: String, followRedirect: Bool) async throws -> SubscribeOutcome {
        var target = endpoint
        var redirects = 0
        while true {
            let response = try await self.http.execute(
                try self.request(for: call, endpoint: target, accept: "application/recordio"),
                timeout: Self.timeAmount(self.requestTimeout),
                logger: self.logger
            )
            // The HTTP client may have followed a redirect by itself: the stream is then at the final URL.
            var reached = target
            if response.history.count > 1, let url = response.url,
                let final = MasterSource.endpoint(location: url.absoluteString, relativeTo: target)
            {
                reached = final
            }
            if self.credential != nil, !Self.sameMaster(reached, endpoint) {
                // The client followed a redirect to another master by itself, without the credential. The body (a
                // stream, if that master opened one) is dropped unread, which closes the connection.
                return .notLeader(Self.crossMasterRedirect(from: endpoint, to: reached))
            }
            switch response.status.code {
            case 200:
                if reached != target && !followRedirect {
                    return .notLeader("the detected leader at \(target) redirected SUBSCRIBE to \(reached)")
                }
                self.session.withLock { $0 = reached }
                return .opened(response, endpoint: reached)
            case 307, 301, 302, 303, 308:
                let location = response.headers.first(name: "Location")
                let message = await Self.message(from: response)
                guard followRedirect, redirects == 0, let location,
                    let next = MasterSource.endpoint(location: location, relativeTo: reached)
                else {
                    return .notLeader(
                        "the master at \(reached) is not the leader (status \(response.status.code), location "
                            + "\(location ?? "none")): \(message)"
                    )
                }
                if self.credential != nil, !Self.sameMaster(next, endpoint) {
                    return .notLeader(Self.crossMasterRedirect(from: reached, to: next))
                }
                self.logger.info(
                    "Master is not the leader; following its redirect",
                    metadata: [LogKey.master: "\(reached)", "master.redirect": "\(next)"]
                )
                redirects += 1
                target = next
            case 503:
                return .unavailable(await Self.message(from: response))
            case 401, 403:
                return .unauthorized(status: Int(response.status.code), message: await Self.message(from: response))
            default:
                return .rejected(status: Int(response.status.code), message: await Self.message(from: response))
            }
        }
    }

    /// Whether two agent endpoints name the same master (scheme, host and port).
    static func sameMaster(_ first: String, _ second: String) -> Bool {
        guard let a = URL(string: first), let b = URL(string: second) else { return false }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased()
            && (a.port ?? 5050) == (b.port ?? 5050)
    }

    private static func crossMasterRedirect(from: String, to: String) -> String {
        "the master at \(from) redirected the agent to another master (\(to)); the agent does not send its "
            + "--credential across a redirect to another host:port. Give --master as zk://…/path so the agent "
            + "finds the leader itself, or point --master at the leading master"
    }

    /// Sends a call that the master answers with `202` (UPDATE, PONG) to the master of the open stream.
    ///
    /// - Throws: transport errors (connection refused, timeout), or `AgentError.masterRejected` when no stream is
    ///   open.
    func send(_ call: AgentCall) async throws -> Outcome {
        guard let endpoint = self.sessionEndpoint else {
            throw AgentError(
                .masterRejected,
                "The agent is not subscribed to any master; the call waits for SUBSCRIBE."
            )
        }
        let response = try await self.http.execute(
            try self.request(for: call, endpoint: endpoint, accept: "application/json"),
            timeout: Self.timeAmount(self.requestTimeout),
            logger: self.logger
        )
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

    private func request(for call: AgentCall, endpoint: String, accept: String) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: accept)
        if let credential = self.credential {
            // Every endpoint reaches here only when it is the master the agent chose (see `subscribe`).
            request.headers.add(name: "Authorization", value: credential.basicAuthorization)
        }
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encodeFast(call)))
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

    /// `duration` as NIO's `TimeAmount`, saturating (a health check's timeout comes from the wire).
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        DockerEngineClient.timeAmount(duration)
    }
}
