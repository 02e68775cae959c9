// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RegattaCoordination
import RegattaCore
import RegattaHTTP

/// What a framework's connection to the master reports.
public enum ConnectionEvent: Sendable, Equatable {
    /// Subscribed (again); calls may be sent from now on.
    case subscribed(FrameworkID)
    /// An event from the master.
    case event(SchedulerEvent)
    /// The subscription ended; the connection will re-subscribe by itself.
    case disconnected(reason: String)
}

/// The scheduler's link to the master: a Mesos v1 scheduler API subscription plus calls.
///
/// The built-in scheduler uses the same public HTTP API as any third-party framework.
public protocol MasterConnection: Sendable {
    /// Subscribes, re-subscribing with backoff whenever the stream ends, until the task is cancelled.
    ///
    /// - Parameter frameworkInfo: called before every SUBSCRIBE, so a stored framework id is reused.
    func run(
        frameworkInfo: @escaping @Sendable () async -> FrameworkInfo,
        events: AsyncStream<ConnectionEvent>.Continuation
    )
        async throws

    /// Sends a call on the current subscription.
    ///
    /// - Throws: `SchedulerError.masterUnavailable` when not subscribed or the master refuses the call.
    func send(_ call: SchedulerCall) async throws
}

/// Builds the connection a `--master` value names.
public enum MasterConnections {
    /// A `--master` value safe to log or report: a `zk://` URL's password is replaced by `***`.
    public static func redacted(_ master: String) -> String {
        Redaction.credentials(in: master)
    }

    /// `zk://host:port[,host:port]/path` follows the leading master through ZooKeeper (over https when its
    /// MasterInfo says it serves TLS); anything else is `host:port` (or `http[s]://host:port`) of one master, whose
    /// redirects to the leader are followed.
    ///
    /// - Parameters:
    ///   - masterDetector: finds the leading master of a `zk://` value (in ZooKeeper,
    ///     `ZooKeeperMasterDetector.factory`); without one, a `zk://` value is refused on first use.
    ///   - credential: the principal and secret presented to the master (see ``HTTPMasterConnection``).
    ///   - client: the client for SUBSCRIBE; by default one that follows redirects without a credential, and one
    ///     that does not with it, over TLS with `tls`.
    ///   - tls: the scheduler's TLS: the CA an `https://` master must chain to, and a bare `host:port` reached over
    ///     https once a CA is given.
    public static func make(
        master: String,
        sessionTimeout: Duration = .seconds(10),
        masterDetector: MasterDetectorFactory? = nil,
        credential: Credential? = nil,
        client: HTTPClient? = nil,
        tls: TLSSettings? = nil,
        logger: Logger
    ) -> any MasterConnection {
        if master.hasPrefix("zk://"), let url = try? ZooKeeperURL(parsing: master) {
            return HTTPMasterConnection(
                zooKeeper: url,
                detector: masterDetector?(url, sessionTimeout),
                credential: credential,
                client: client,
                tls: tls,
                logger: logger
            )
        }
        return HTTPMasterConnection(master: master, credential: credential, client: client, tls: tls, logger: logger)
    }
}

/// A `MasterConnection` over HTTP to `POST /api/v1/scheduler`.
///
/// With one master address, a SUBSCRIBE answered with `307` (a master that does not lead) is sent again to the
/// `Location` it names. With a `zk://` URL the connection follows the leading master through ZooKeeper: when the
/// leader changes, the subscription ends and a new one is made with the leader, re-using the framework id (the
/// scheduler then reconciles); nothing is killed.
///
/// With a credential (`--mesos_authentication_principal`, `--mesos_authentication_secret_file`) the framework
/// subscribes with `FrameworkInfo.principal` set to its principal, and SUBSCRIBE and every call carry
/// `Authorization: Basic base64(principal:secret)`. The credential is never sent across a redirect to another
/// `host:port`: a SUBSCRIBE or a call redirected to another master fails instead (and is retried with backoff), so
/// an authenticating scheduler that must follow a changing leader is given `--master zk://…/mesos`.
public final class HTTPMasterConnection: MasterConnection {
    private struct Subscription: Sendable {
        var frameworkID: FrameworkID
        var streamID: String
        /// `http[s]://host:port` of the master the subscription is with; calls go there.
        var master: String
    }

    /// Thrown by a SUBSCRIBE that was answered with a redirect to another master.
    private struct Redirected: Error {
        var master: String
    }

    private let master: String
    private let zooKeeper: ZooKeeperURL?
    private let detector: (any MasterDetector)?
    private let client: HTTPClient
    private let credential: Credential?
    private let tls: TLSSettings?
    private let logger: Logger
    private let subscription = Locked<Subscription?>(nil)
    /// The keep-alive client for calls to the master the subscription is with (`http://` masters, and `https://`
    /// ones with `tls`).
    private let callClient = Locked<(master: String, client: HTTPCallClient)?>(nil)

    /// A client that shows redirects instead of following them, for a connection with a credential (whose
    /// redirects this connection checks itself).
    public static let unredirectedClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: .init(redirectConfiguration: .disallow)
    )

    /// The SUBSCRIBE client for `credential` and `tls`: one that follows redirects without a credential, one that
    /// shows them with it (this connection checks them itself).
    static func defaultClient(credential: Credential?, tls: TLSSettings?) -> HTTPClient {
        guard let tls else { return credential == nil ? .shared : Self.unredirectedClient }
        guard credential != nil else { return TLSHTTPClients.shared(tls: tls) }
        return TLSHTTPClients.shared(tls: tls, variant: "unredirected") { $0.redirectConfiguration = .disallow }
    }

    /// - Parameters:
    ///   - master: `host:port` (or `http[s]://host:port`) of the master; a bare address is reached over https when
    ///     `tls` has a CA.
    ///   - credential: the principal and secret presented to the master; `nil` presents none.
    ///   - client: the client for SUBSCRIBE; defaults to `HTTPClient.shared`, or to ``unredirectedClient`` with a
    ///     credential (both over TLS with `tls`). It must trust the master's certificate for an `https` master.
    ///   - tls: the CA and client certificate of the connection's clients.
    public init(
        master: String,
        credential: Credential? = nil,
        client: HTTPClient? = nil,
        tls: TLSSettings? = nil,
        logger: Logger
    ) {
        self.master = Self.baseURL(master, defaultScheme: tls?.defaultScheme ?? "http")
        self.zooKeeper = nil
        self.detector = nil
        self.credential = credential
        self.client = client ?? Self.defaultClient(credential: credential, tls: tls)
        self.tls = tls
        self.logger = logger
    }

    /// Follows the leading master of `zooKeeper` (`zk://…/mesos`) as `detector` finds it; without a detector,
    /// ``run(frameworkInfo:events:)`` throws.
    public init(
        zooKeeper: ZooKeeperURL,
        detector: (any MasterDetector)?,
        credential: Credential? = nil,
        client: HTTPClient? = nil,
        tls: TLSSettings? = nil,
        logger: Logger
    ) {
        self.master = "zk://\(zooKeeper.connectionString)\(zooKeeper.path)"
        self.zooKeeper = zooKeeper
        self.detector = detector
        self.credential = credential
        self.client = client ?? Self.defaultClient(credential: credential, tls: tls)
        self.tls = tls
        self.logger = logger
    }

    /// Whether two `scheme://host:port` bases name the same server (a credential may be sent to both).
    static func sameOrigin(_ a: String, _ b: String) -> Bool {
        guard let left = URL(string: a), let right = URL(string: b) else { return false }
        return RedirectCredentials.sameOrigin(left, right)
    }

    static func baseURL(_ master: String, defaultScheme: String = "http") -> String {
        master.hasPrefix("http://") || master.hasPrefix("https://") ? master : "\(defaultScheme)://\(master)"
    }

    /// `scheme://host:port` of the master a `Location` header names (`//host:port/path` keeps `scheme`, the scheme
    /// of the master that answered; `http[s]://host:port/path` names its own).
    static func master(fromLocation location: String, scheme defaultScheme: String = "http") -> String? {
        var rest = Substring(location)
        var scheme = defaultScheme
        if let range = rest.range(of: "://") {
            scheme = String(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        } else if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        return authority.isEmpty ? nil : "\(scheme)://\(authority)"
    }

    public func run(
        frameworkInfo: @escaping @Sendable () async -> FrameworkInfo,
        events: AsyncStream<ConnectionEvent>.Continuation
    ) async throws {
        guard let zooKeeper = self.zooKeeper else {
            try await self.subscribeLoop(master: self.master, frameworkInfo: frameworkInfo, events: events)
            return
        }
        guard let detector = self.detector else {
            throw SchedulerError(
                .masterUnavailable,
                "The master '\(zooKeeper)' is a zk:// URL, but no master detector was given to follow the leading "
                    + "master; pass one to MasterConnections.make (the regatta scheduler command does)."
            )
        }
        // One subscription at a time, each a child of this task: a new leader ends the current one (and waits for
        // its end, so its `.disconnected` comes before the next `.subscribed`); cancelling `run` ends them all.
        try await withThrowingDiscardingTaskGroup { group in
            var current: Subscriber?
            // The iteration ends when this task is cancelled.
            for await leader in detector.leaders() {
                await current?.stop()
                current = nil
                guard let leader else {
                    self.logger.warning("No leading master is known; waiting for one to be elected")
                    continue
                }
                self.logger.info("Following the leading master", metadata: ["master": "\(leader.hostPort)"])
                // With a CA the link is https whatever ZooKeeper says: its data is not authenticated.
                let master = leader.baseURL(requiringTLS: self.tls?.defaultScheme == "https")
                let subscriber = Subscriber()
                current = subscriber
                group.addTask {
                    await subscriber.run {
                        try? await self.subscribeLoop(master: master, frameworkInfo: frameworkInfo, events: events)
                    }
                }
            }
            await current?.stop()
        }
        try Task.checkCancellation()
    }

    /// A subscription to one master, run by a child task of ``run(frameworkInfo:events:)`` until it is stopped.
    private struct Subscriber: Sendable {
        private let stopSignal: AsyncStream<Never>
        private let stopper: AsyncStream<Never>.Continuation
        private let endSignal: AsyncStream<Never>
        private let ender: AsyncStream<Never>.Continuation

        init() {
            let (stopSignal, stopper) = AsyncStream.makeStream(of: Never.self)
            let (endSignal, ender) = AsyncStream.makeStream(of: Never.self)
            self.stopSignal = stopSignal
            self.stopper = stopper
            self.endSignal = endSignal
            self.ender = ender
        }

        /// Runs `body` until it returns or ``stop()`` is called (then it is cancelled).
        func run(_ body: @escaping @Sendable () async -> Void) async {
            defer { self.ender.finish() }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await body() }
                group.addTask { for await _ in self.stopSignal {} }
                await group.next()
                group.cancelAll()
            }
        }

        /// Stops the subscription and waits until it has ended.
        func stop() async {
            self.stopper.finish()
            for await _ in self.endSignal {}
        }
    }

    /// Subscribes to `master` (following its redirects), re-subscribing with backoff, until cancelled.
    private func subscribeLoop(
        master: String,
        frameworkInfo: @escaping @Sendable () async -> FrameworkInfo,
        events: AsyncStream<ConnectionEvent>.Continuation
    ) async throws {
        var backoff = Duration.milliseconds(500)
        var target = master
        var redirects = 0
        while !Task.isCancelled {
            do {
                try await self.subscribeOnce(master: target, info: await frameworkInfo(), events: events)
                backoff = .milliseconds(500)
            } catch is CancellationError {
                break
            } catch let redirect as Redirected
                where self.credential != nil && !Self.sameOrigin(redirect.master, target)
            {
                // The credential is not sent across a redirect to another host: `--master zk://…/mesos` follows
                // the leading master instead.
                self.logger.warning(
                    "The master does not lead and redirects to another master; not sending the credential there",
                    metadata: [
                        "master": "\(target)", "leader": "\(redirect.master)",
                        "fix": "give --master zk://host:port/mesos to follow the leading master",
                    ]
                )
            } catch let redirect as Redirected where redirects < 3 {
                self.logger.info(
                    "The master does not lead; subscribing with the leader it names",
                    metadata: ["master": "\(target)", "leader": "\(redirect.master)"]
                )
                target = redirect.master
                redirects += 1
                continue
            } catch {
                self.logger.warning(
                    "Subscription to the master failed",
                    metadata: ["master": "\(target)", "error": "\(error)"]
                )
            }
            redirects = 0
            target = master
            self.subscription.withLock { $0 = nil }
            events.yield(.disconnected(reason: "subscription ended"))
            guard !Task.isCancelled else { break }
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(10))
        }
        if self.subscription.withLock({ $0 }) != nil {
            self.subscription.withLock { $0 = nil }
            events.yield(.disconnected(reason: "the leading master changed"))
        }
    }

    private func subscribeOnce(
        master: String,
        info: FrameworkInfo,
        events: AsyncStream<ConnectionEvent>.Continuation
    ) async throws {
        var info = info
        if let credential = self.credential {
            // Mesos binds a framework to the principal it authenticated as; the two must agree.
            info.principal = credential.principal
        }
        var call = SchedulerCall(frameworkId: info.id, type: .subscribe)
        call.subscribe = .init(frameworkInfo: info)
        var request = HTTPClientRequest(url: "\(master)/api/v1/scheduler")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        if let credential = self.credential {
            request.headers.add(name: "Authorization", value: credential.basicAuthorization)
        }
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encodeFast(call)))
        let response = try await self.client.execute(request, timeout: .seconds(10))
        if response.status == .temporaryRedirect || response.status == .permanentRedirect,
            let location = response.headers.first(name: "Location"),
            let leader = Self.master(fromLocation: location, scheme: master.hasPrefix("https://") ? "https" : "http")
        {
            throw Redirected(master: leader)
        }
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 1 << 16)
            throw SchedulerError(
                .masterUnavailable,
                "The master refused SUBSCRIBE with \(response.status.code): \(body.map { String(buffer: $0) } ?? "")"
            )
        }
        guard let streamID = response.headers.first(name: "Mesos-Stream-Id") else {
            throw SchedulerError(.masterUnavailable, "The master's SUBSCRIBE response has no Mesos-Stream-Id header.")
        }
        let heartbeat = Locked(Duration.seconds(15))
        try await withThrowingTaskGroup(of: Void.self) { group in
            let lastEvent = Locked(ContinuousClock.now)
            group.addTask {
                var decoder = RecordIODecoder()
                for try await chunk in response.body {
                    for record in try decoder.feed(chunk.readableBytesView) {
                        let event = try MesosJSON.decodeFast(SchedulerEvent.self, from: record)
                        lastEvent.withLock { $0 = .now }
                        if event.type == .subscribed, let subscribed = event.subscribed {
                            heartbeat.withLock {
                                $0 = Saturating.duration(seconds: subscribed.heartbeatIntervalSeconds ?? 15)
                            }
                            self.subscription.withLock {
                                $0 = Subscription(
                                    frameworkID: subscribed.frameworkId,
                                    streamID: streamID,
                                    master: master
                                )
                            }
                            events.yield(.subscribed(subscribed.frameworkId))
                        }
                        events.yield(.event(event))
                        if event.type == .error {
                            throw SchedulerError(
                                .masterUnavailable,
                                "The master sent ERROR: \(event.error?.message ?? "")"
                            )
                        }
                    }
                }
                throw SchedulerError(.masterUnavailable, "The master closed the subscription stream.")
            }
            group.addTask {
                // Mesos's advice: treat ~5 missed heartbeats as a lost connection.
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let silence = ContinuousClock.now - lastEvent.withLock { $0 }
                    if silence > heartbeat.value * 5 {
                        throw SchedulerError(.masterUnavailable, "No heartbeat from the master for \(silence).")
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Sends a call to the master of the subscription over a few keep-alive connections (``HTTPCallClient``,
    /// calls pipelined; over TLS for an `https://` master). A redirect (the master stopped leading) is followed as
    /// `HTTPClient` follows it, without the credentials when it leads to another host or port; an `https://` master
    /// without `tls` settings (system roots) is called through `HTTPClient` too.
    public func send(_ call: SchedulerCall) async throws {
        guard let subscription = self.subscription.withLock({ $0 }) else {
            throw SchedulerError(.masterUnavailable, "Not subscribed to the master; the call was not sent.")
        }
        var call = call
        call.frameworkId = subscription.frameworkID
        let body = ByteBuffer(bytes: try MesosJSON.encodeFast(call))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Mesos-Stream-Id", value: subscription.streamID)
        if let credential = self.credential {
            headers.add(name: "Authorization", value: credential.basicAuthorization)
        }
        guard let client = await self.callClient(for: subscription.master) else {
            try await self.sendThroughHTTPClient(
                call.type,
                url: "\(subscription.master)/api/v1/scheduler",
                method: .POST,
                headers: headers,
                body: body
            )
            return
        }
        let response = try await client.execute(
            HTTPCallRequest(method: .POST, path: "/api/v1/scheduler", headers: headers, body: body)
        )
        switch response.status {
        case .accepted, .ok:
            return
        case .movedPermanently, .found, .seeOther, .temporaryRedirect, .permanentRedirect:
            if let location = response.headers.first(name: "Location"),
                let url = URL(string: location, relativeTo: URL(string: "\(subscription.master)/api/v1/scheduler"))
            {
                if self.credential != nil && !Self.sameOrigin(url.absoluteString, subscription.master) {
                    throw SchedulerError(
                        .masterUnavailable,
                        "The master redirected \(call.type.rawValue) to another host; the credential is not sent "
                            + "across a redirect to another host, so the call was not sent."
                    )
                }
                // As HTTPClient follows a redirect: 307/308 keep the method and body, 301/302/303 turn into a GET;
                // credentials stay with the master that was called.
                let keep = response.status == .temporaryRedirect || response.status == .permanentRedirect
                if !keep { headers.remove(name: "Content-Type") }
                if let origin = URL(string: subscription.master) {
                    headers = RedirectCredentials.headers(headers, from: origin, to: url.absoluteURL)
                }
                try await self.sendThroughHTTPClient(
                    call.type,
                    url: url.absoluteString,
                    method: keep ? .POST : .GET,
                    headers: headers,
                    body: keep ? body : nil
                )
                return
            }
        default:
            break
        }
        throw SchedulerError(
            .masterUnavailable,
            "The master answered \(call.type.rawValue) with \(response.status.code): \(response.bodyText)"
        )
    }

    /// The call client for `master` (`http[s]://host[:port]`), replacing the one of an earlier master; `nil` for an
    /// `https://` master without `tls` settings.
    private func callClient(for master: String) async -> HTTPCallClient? {
        let tls = master.hasPrefix("https://") ? self.tls : nil
        guard
            let (host, port) = master.hasPrefix("https://")
                ? (tls == nil ? nil : Self.hostPort(ofHTTPSBase: master)) : Self.hostPort(ofHTTPBase: master)
        else { return nil }
        let (client, replaced) = self.callClient.withLock { current -> (HTTPCallClient, HTTPCallClient?) in
            if let current, current.master == master { return (current.client, nil) }
            var configuration = HTTPCallClient.Configuration()
            // ServiceScheduler sends up to 32 calls at once: 4 connections with up to 8 calls in flight each.
            configuration.connections = 4
            configuration.pipelineDepth = 8
            configuration.timeout = .seconds(10)
            configuration.maximumResponseBodyBytes = 1 << 16
            configuration.tls = tls
            let client = HTTPCallClient(host: host, port: port, configuration: configuration, logger: self.logger)
            let replaced = current?.client
            current = (master, client)
            return (client, replaced)
        }
        // Calls still pending with the earlier master fail now rather than at their timeout.
        if let replaced { await replaced.shutdown() }
        return client
    }

    /// `host` and `port` of `http://host[:port]` (port 80 when none, as a URL has it); `nil` for other schemes.
    public static func hostPort(ofHTTPBase base: String) -> (String, Int)? {
        guard base.hasPrefix("http://") else { return nil }
        return Self.hostPort(authorityOf: base.dropFirst("http://".count), defaultPort: 80)
    }

    /// `host` and `port` of `https://host[:port]` (port 443 when none); `nil` for other schemes.
    public static func hostPort(ofHTTPSBase base: String) -> (String, Int)? {
        guard base.hasPrefix("https://") else { return nil }
        return Self.hostPort(authorityOf: base.dropFirst("https://".count), defaultPort: 443)
    }

    private static func hostPort(authorityOf rest: Substring, defaultPort: Int) -> (String, Int)? {
        let authority = rest.prefix { $0 != "/" }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            guard rest.hasPrefix(":") else { return rest.isEmpty ? (host, defaultPort) : nil }
            return Int(rest.dropFirst()).map { (host, $0) }
        }
        guard let colon = authority.lastIndex(of: ":") else {
            return authority.isEmpty ? nil : (String(authority), defaultPort)
        }
        return Int(authority[authority.index(after: colon)...]).map { (String(authority[..<colon]), $0) }
    }

    /// Sends a call through `HTTPClient` (which follows further redirects by itself).
    private func sendThroughHTTPClient(
        _ type: SchedulerCall.CallType,
        url: String,
        method: HTTPMethod,
        headers: HTTPHeaders,
        body: ByteBuffer?
    ) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        if let body { request.body = .bytes(body) }
        let response = try await self.client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard response.status == .accepted || response.status == .ok else {
            throw SchedulerError(
                .masterUnavailable,
                "The master answered \(type.rawValue) with \(response.status.code): \(String(buffer: body))"
            )
        }
    }
}
