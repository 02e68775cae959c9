// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import RegattaCore
import RegattaHTTP

/// The HTTP front of an elected scheduler: while it leads, its current term's API answers; while it follows, calls
/// are proxied to the leader (``LeaderProxy``), `/v2/events` is redirected to it, and `/ping` and `GET /v2/leader`
/// are answered locally.
///
/// A follower authenticates every call itself (``MarathonAuthentication``, `/ping` excepted) before it answers,
/// proxies or redirects it, so a caller without valid credentials gets its `401`/`403` from the follower and
/// nothing reaches the leader. A call it lets through is proxied with the caller's `Authorization` header: the
/// leader belongs to the same cluster (same `--http_credentials`) and checks it again. `/v2/events` is redirected
/// (`307`) to the leader; the caller's client decides whether to send credentials there (curl, AsyncHTTPClient and
/// Python's requests do not send them to another host).
///
/// - `503 {"message":"…"}` when no leader is known after waiting up to ``leaderWait``;
/// - `502` when the leader cannot be reached (or a proxy loop is detected);
/// - `GET /v2/leader` → `{"leader":"host:port"}`, or `404 {"message":"There is no leader"}`.
public final class SchedulerRoleResponder: HTTPResponder {
    public typealias Context = MarathonRequestContext

    private struct State: Sendable {
        /// The leading term's API while this scheduler leads.
        var leading: (any HTTPResponder<MarathonRequestContext>)?
        /// The leader the election reports (this scheduler itself while it leads).
        var leader: SchedulerLeaderInfo?
    }

    /// The client proxied calls use: redirects pass through to the caller unchanged, bodies are not decompressed,
    /// and an unreachable leader fails the call after 3 seconds of connection attempts (Marathon: 5).
    public static let proxyClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: .init(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(3)),
            decompression: .disabled
        )
    )

    /// ``proxyClient``, or with `tls` a client like it that reaches an `https://` leader with `--tls_ca_file`'s CA
    /// (hostname verification on) and presents `--tls_cert_file` when the leader asks for a client certificate.
    public static func proxyClient(tls: TLSSettings?) -> HTTPClient {
        guard let tls else { return Self.proxyClient }
        return TLSHTTPClients.shared(tls: tls, variant: "scheduler-proxy") { configuration in
            configuration.redirectConfiguration = .disallow
            configuration.timeout = .init(connect: .seconds(3))
            configuration.decompression = .disabled
        }
    }

    private let state = Locked(State())
    private let proxy: LeaderProxy
    private let authentication: MarathonAuthentication
    /// How long a follower waits for a leader to be known before answering 503 (Marathon: 10 × 250 ms).
    let leaderWait: Duration

    /// - Parameters:
    ///   - ownAddress: this scheduler's advertised `host:port`.
    ///   - client: the client for proxied calls; it must not follow redirects.
    ///   - authentication: who may call (the leader's settings: the schedulers of one cluster share them).
    ///   - proxyTimeout: how long the leader may take to answer a proxied call.
    public init(
        ownAddress: String,
        authentication: MarathonAuthentication = .open,
        client: HTTPClient = SchedulerRoleResponder.proxyClient,
        proxyTimeout: Duration = .seconds(60),
        leaderWait: Duration = .milliseconds(2500),
        logger: Logger
    ) {
        self.proxy = LeaderProxy(ownAddress: ownAddress, client: client, timeout: proxyTimeout, logger: logger)
        self.leaderWait = leaderWait
        self.authentication = authentication
    }

    /// Serves the API of a new leadership term.
    public func lead(_ responder: some HTTPResponder<MarathonRequestContext>) {
        self.state.withLock { $0.leading = responder }
    }

    /// Stops serving the term's API; calls are proxied from now on.
    public func follow() {
        self.state.withLock { $0.leading = nil }
    }

    /// Records the leader the election reports (`nil` while there is none).
    public func setLeader(_ leader: SchedulerLeaderInfo?) {
        self.state.withLock { $0.leader = leader }
    }

    /// The leader as this scheduler knows it.
    public var leader: SchedulerLeaderInfo? { self.state.value.leader }

    /// Whether this scheduler serves a leadership term.
    public var isLeading: Bool { self.state.value.leading != nil }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path == "/ping" {
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain"],
                body: ResponseBody(byteBuffer: .init(string: "pong"))
            )
        }
        if let leading = self.state.value.leading {
            return try await leading.respond(to: request, context: context)
        }
        do {
            _ = try self.authentication.authorize(
                method: request.method,
                authorization: request.headers[.authorization]
            )
        } catch {
            return try error.response(from: request, context: context)
        }
        if path == "/v2/leader" && request.method == .get {
            guard let leader = self.state.value.leader else {
                return LeaderProxy.json(["message": "There is no leader"], status: .notFound)
            }
            return LeaderProxy.json(["leader": leader.hostPort], status: .ok)
        }
        let known = await self.knownLeader()
        if let leading = self.state.value.leading {
            // Elected while waiting.
            return try await leading.respond(to: request, context: context)
        }
        guard let leader = known else {
            return LeaderProxy.error(
                "Could not determine the current leader: no scheduler leads right now; retry in a few seconds.",
                status: .serviceUnavailable
            )
        }
        if path == "/v2/events" {
            var headers = HTTPFields()
            headers[.location] = leader.url + (request.head.path ?? path)
            headers[.marathonLeader] = leader.url
            return Response(status: .temporaryRedirect, headers: headers)
        }
        return await self.proxy.forward(request, to: leader)
    }

    /// The leader to proxy to: waits up to ``leaderWait`` for one that is not this scheduler (which may be between
    /// winning the election and serving its term).
    private func knownLeader() async -> SchedulerLeaderInfo? {
        let deadline = ContinuousClock.now + self.leaderWait
        while true {
            let state = self.state.value
            if state.leading != nil { return state.leader }
            if let leader = state.leader, leader.hostPort != self.proxy.ownAddress { return leader }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}
