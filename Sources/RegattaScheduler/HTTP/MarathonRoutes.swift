// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegattaCore
import RegattaHTTP
import ServiceLifecycle

/// Marathon's REST API v2 over the ``ServiceScheduler``.
public struct MarathonRoutes: Sendable {
    /// Settings of the API.
    public struct Configuration: Sendable {
        /// The master the scheduler uses, reported as `marathon_config.master` by `/v2/info`. Defaults to empty.
        public var master = ""
        /// Time between keep-alive comments on `/v2/events`, so dead clients are noticed. Defaults to `15` seconds.
        public var eventStreamHeartbeat: Duration = .seconds(15)
        /// Called by `DELETE /v2/leader`, which then answers `{"message":"Leadership abdicated"}`; the callee gives
        /// up leadership after the answer. `nil` (one scheduler, no election) answers 400: there is nothing to
        /// hand over to.
        public var abdicate: (@Sendable () -> Void)?
        /// The ZooKeeper URL of the election (credentials hidden), reported by `/v2/info` with `ha: true`; `nil` for a
        /// single scheduler.
        public var zooKeeper: String?
        /// The ZooKeeper session timeout, reported by `/v2/info` as `zookeeper_config.zk_session_timeout`.
        public var zooKeeperSessionTimeout: Duration = .seconds(10)
        /// What apps' containers may do to their hosts (`--allowed_host_paths`, `--allow_privileged`); an app asking
        /// for more is refused with 422. Defaults to nothing beyond the sandbox, as the agents' default.
        public var containerPolicy = ContainerPolicy()
        /// The scheme of `X-Marathon-Leader`: `https` when the scheduler serves TLS. Defaults to `http`.
        public var scheme = "http"
        /// Who may call the API (`--http_credentials`, `--http_readonly_credentials`). Defaults to
        /// ``MarathonAuthentication/open``: no credentials, everybody may do everything.
        public var authentication = MarathonAuthentication.open
        public init() {}
    }

    public let scheduler: ServiceScheduler
    /// `host:port` this scheduler serves on, reported as the leader.
    public let advertisedAddress: String
    /// The bus behind `/v2/events` (the one the scheduler publishes to); `nil` answers `/v2/events` with 503.
    public let events: EventBus?
    public let configuration: Configuration
    private let wallClock: @Sendable () -> Date

    /// Creates the routes.
    /// - Parameters:
    ///   - scheduler: the scheduler the API drives.
    ///   - advertisedAddress: `host:port` reported as the leader (`/v2/leader`, `X-Marathon-Leader`).
    ///   - events: the event bus the scheduler publishes to; serves `/v2/events` and receives `api_post_event`.
    ///   - configuration: master address and event stream keep-alive.
    ///   - wallClock: the time task life times are measured to (`taskStats`).
    public init(
        scheduler: ServiceScheduler,
        advertisedAddress: String,
        events: EventBus? = nil,
        configuration: Configuration = Configuration(),
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.scheduler = scheduler
        self.advertisedAddress = advertisedAddress
        self.events = events
        self.configuration = configuration
        self.wallClock = wallClock
    }

    /// The largest request body the API accepts. 8 MiB.
    public static let maximumBodySize = 8 << 20

    /// Adds the `/v2` routes, `/ping` and `/metrics` to `router`; every response carries `X-Marathon-Leader`.
    /// With credentials in ``Configuration/authentication``, every route but `/ping` needs them.
    ///
    /// Use a router built with ``MarathonRequestContext`` for client addresses in events.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let scheduler = self.scheduler
        let address = self.advertisedAddress
        let events = self.events
        let configuration = self.configuration
        let wallClock = self.wallClock
        let policy = self.configuration.containerPolicy
        let router = router.group()
            .add(middleware: MarathonLeaderMiddleware<Context>(leaderURL: "\(configuration.scheme)://\(address)"))
            .add(middleware: MarathonAuthenticationMiddleware<Context>(authentication: configuration.authentication))
        router.get("/ping") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "pong"))
            )
        }
        router.get("/v2/leader") { _, _ in Self.json(["leader": address]) }
        let abdicate = configuration.abdicate
        router.delete("/v2/leader") { _, _ in
            guard let abdicate else {
                throw MarathonAPIError(
                    .badRequest,
                    "This scheduler runs without leader election (no --zk), so it cannot abdicate; run several "
                        + "schedulers with --zk to hand leadership over."
                )
            }
            abdicate()
            return Self.json(["message": "Leadership abdicated"])
        }
        router.get("/v2/info") { _, _ in
            let frameworkID = await scheduler.frameworkID
            return Self.json(
                Self.info(
                    scheduler: scheduler,
                    frameworkID: frameworkID,
                    address: address,
                    master: configuration.master,
                    zooKeeper: configuration.zooKeeper,
                    sessionTimeout: configuration.zooKeeperSessionTimeout
                )
            )
        }
        router.get("/v2/apps") { request, _ in
            let (state, health) = await scheduler.readSnapshot()
            // Marathon always embeds counts and deployments in the list.
            let embed = MarathonJSON.AppEmbed.parse(Self.queryValues(request, "embed")).union([.counts, .deployments])
            var apps = state.apps.values.sorted { $0.id < $1.id }
            if let cmd = Self.queryValue(request, "cmd") {
                apps = apps.filter { ($0.cmd ?? "").contains(cmd) }
            }
            if let id = Self.queryValue(request, "id") {
                apps = apps.filter { $0.id.contains(id) }
            }
            if let selector = Self.queryValue(request, "label") {
                apps = apps.filter { LabelSelector.matches(selector, labels: $0.labels) }
            }
            let view = MarathonAppsView(state: state, healthResults: health, now: wallClock())
            return Self.json(bytes: view.appsDocument(apps, embed: embed))
        }
        router.post("/v2/apps") { request, context in
            var app = try await Self.decodeApp(request)
            app.id = Self.normalize(app.id)
            try Self.validate(app, policy: policy)
            let (stored, deployment) = try await scheduler.createApp(app)
            events?.publish(.apiPost(stored, uri: request.uri.path, clientIP: Self.clientIP(request, context)))
            let view = MarathonAppsView(state: await scheduler.state, healthResults: [:], now: wallClock())
            return Self.json(
                bytes: view.createdAppDocument(stored, deployment: deployment),
                status: .created,
                headers: [.location: "/v2/apps\(stored.id)", .marathonDeploymentID: deployment.id]
            )
        }
        for method in [HTTPRequest.Method.put, .patch] {
            // PUT and PATCH of a list: create or partially update each app (Marathon's bulk form).
            router.on("/v2/apps", method: method) { request, context in
                let patches = try Self.decodePatches(try await Self.body(request))
                var changes: [(id: String, patch: AppPatch)] = []
                for (index, decoded) in patches.enumerated() {
                    // Each app is checked as a whole new app first, in order, as Marathon does.
                    let patch = try decoded.get()
                    let id = Self.normalize(patch.id ?? "")
                    try Self.validate(patch.applied(to: nil, id: id), prefix: "/\(index)", policy: policy)
                    changes.append((id, patch))
                }
                var lastDeployment: Deployment?
                for change in changes {
                    let merged = change.patch.applied(to: await scheduler.state.apps[change.id], id: change.id)
                    try Self.validate(merged, policy: policy)
                    let (stored, deployment, _) = try await scheduler.putApp(merged, force: Self.flag(request, "force"))
                    events?.publish(.apiPost(stored, uri: request.uri.path, clientIP: Self.clientIP(request, context)))
                    lastDeployment = deployment
                }
                return Self.json(
                    ["deploymentId": lastDeployment?.id ?? "", "version": lastDeployment?.version ?? ""],
                    headers: lastDeployment.map { [.marathonDeploymentID: $0.id] } ?? [:]
                )
            }
        }
        router.get("/v2/apps/**") { request, _ in
            let path = Self.appPath(request)
            let (state, health) = await scheduler.readSnapshot()
            switch path.suffix {
            case .none:
                guard let app = state.apps[path.id] else { throw MarathonAPIError.appNotFound(path.id) }
                // Marathon always embeds counts, tasks, deployments and the last failure of one app.
                let embed = MarathonJSON.AppEmbed.parse(Self.queryValues(request, "embed"))
                    .union([.counts, .tasks, .deployments, .lastTaskFailure])
                let view = MarathonAppsView(state: state, healthResults: health, now: wallClock())
                return Self.json(bytes: view.appDocument(app, embed: embed))
            case .tasks:
                guard let app = state.apps[path.id] else { throw MarathonAPIError.appNotFound(path.id) }
                let view = MarathonAppsView(state: state, healthResults: health, now: wallClock())
                return Self.json(
                    bytes: view.tasksDocument(state.instances(ofApp: app.id).filter { !$0.state.isTerminal })
                )
            case .versions(let version):
                guard state.apps[path.id] != nil else { throw MarathonAPIError.appNotFound(path.id) }
                let store = await scheduler.storeForReads
                if let version {
                    let app = try await Self.storedVersion(path.id, version, in: store)
                    return Self.json(bytes: MarathonAppsView.definitionDocument(app))
                }
                return Self.json(["versions": try await store.appVersions(id: path.id)])
            default:
                throw MarathonAPIError.appNotFound(path.id)
            }
        }
        for method in [HTTPRequest.Method.put, .patch] {
            router.on("/v2/apps/**", method: method) { request, context in
                let path = Self.appPath(request)
                guard case .none = path.suffix else { throw MarathonAPIError.appNotFound(path.id) }
                let patch = try Self.decodePatch(try await Self.body(request))
                if let bodyID = patch.id, Self.normalize(bodyID) != path.id {
                    throw MarathonAPIError(
                        .unprocessableContent,
                        "Object is not valid",
                        details: [
                            ValidationViolation(
                                path: "/id",
                                errors: ["the id in the body ('\(bodyID)') differs from the path ('\(path.id)')"]
                            )
                        ]
                    )
                }
                let app: AppDefinition
                if let version = patch.version.value {
                    // Marathon: an update naming a version rolls the app back to that stored version.
                    app = try await Self.storedVersion(path.id, version, in: scheduler.storeForReads)
                } else if method == .patch
                    || Self.queryValue(request, "partialUpdate").map({ $0.lowercased() != "false" }) ?? true
                {
                    app = patch.applied(to: await scheduler.state.apps[path.id], id: path.id)
                } else {
                    app = patch.applied(to: nil, id: path.id)
                }
                try Self.validate(app, policy: policy)
                let (stored, deployment, created) = try await scheduler.putApp(app, force: Self.flag(request, "force"))
                events?.publish(.apiPost(stored, uri: request.uri.path, clientIP: Self.clientIP(request, context)))
                return Self.json(
                    ["deploymentId": deployment.id, "version": deployment.version],
                    status: created ? .created : .ok,
                    headers: [.marathonDeploymentID: deployment.id]
                )
            }
        }
        router.post("/v2/apps/**") { request, _ in
            let path = Self.appPath(request)
            guard case .restart = path.suffix else { throw MarathonAPIError.appNotFound(path.id) }
            let (_, deployment) = try await scheduler.restartApp(path.id, force: Self.flag(request, "force"))
            return Self.json(
                ["deploymentId": deployment.id, "version": deployment.version],
                headers: [.marathonDeploymentID: deployment.id]
            )
        }
        router.delete("/v2/apps/**") { request, _ in
            let path = Self.appPath(request)
            let scale = Self.flag(request, "scale")
            switch path.suffix {
            case .none:
                // Marathon's code defaults `force` to true for DELETE of an app.
                let deployment = try await scheduler.deleteApp(
                    path.id,
                    force: Self.flag(request, "force", default: true)
                )
                return Self.json(
                    ["deploymentId": deployment.id, "version": deployment.version],
                    headers: [.marathonDeploymentID: deployment.id]
                )
            case .tasks:
                let host = Self.queryValue(request, "host")
                let (killed, deployment) = try await scheduler.killTasks(
                    appId: path.id,
                    taskIDs: nil,
                    host: host,
                    scale: scale,
                    force: Self.flag(request, "force")
                )
                return try await Self.killResponse(
                    killed,
                    deployment: deployment,
                    single: false,
                    scheduler: scheduler,
                    now: wallClock()
                )
            case .task(let taskID):
                let (killed, deployment) = try await scheduler.killTasks(
                    appId: path.id,
                    taskIDs: [TaskID(taskID)],
                    host: nil,
                    scale: scale,
                    force: Self.flag(request, "force")
                )
                return try await Self.killResponse(
                    killed,
                    deployment: deployment,
                    single: true,
                    scheduler: scheduler,
                    now: wallClock()
                )
            default:
                throw MarathonAPIError.appNotFound(path.id)
            }
        }
        router.get("/v2/tasks") { request, _ in
            let (state, health) = await scheduler.readSnapshot()
            let status = Self.queryValue(request, "status")
            let tasks = state.instances.values.sorted { $0.id < $1.id }.filter { instance in
                switch status {
                case "running": instance.state == .running
                case "staging": instance.state == .staging || instance.state == .starting
                default: !instance.state.isTerminal
                }
            }
            let view = MarathonAppsView(state: state, healthResults: health, now: wallClock())
            return Self.json(bytes: view.tasksDocument(tasks))
        }
        router.post("/v2/tasks/delete") { request, _ in
            let data = try await Self.body(request)
            guard let object = try? JSONSerialization.jsonObject(with: data) as? MarathonJSON.Object,
                let ids = object["ids"] as? [String]
            else {
                throw MarathonAPIError.invalidJSON(path: "/ids", "error.expected.jsarray")
            }
            let killed = try await scheduler.killTasks(
                ids: ids.map(TaskID.init),
                scale: Self.flag(request, "scale"),
                force: Self.flag(request, "force")
            )
            let view = MarathonAppsView(state: await scheduler.state, healthResults: [:], now: wallClock())
            return Self.json(bytes: view.tasksDocument(killed))
        }
        router.get("/v2/deployments") { _, _ in
            let state = await scheduler.state
            return Self.jsonArray(state.deployments.values.sorted { $0.id < $1.id }.map(MarathonJSON.deployment))
        }
        router.delete("/v2/deployments/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            let force = Self.flag(request, "force")
            let rollback = try await scheduler.cancelDeployment(id, force: force)
            guard !force, let rollback else { return Response(status: .accepted) }
            return Self.json(
                ["deploymentId": rollback.id, "version": rollback.version],
                headers: [.marathonDeploymentID: rollback.id]
            )
        }
        router.get("/v2/queue") { request, _ in
            let state = await scheduler.state
            let now = await scheduler.uptimeNow()
            let embedOffers = Self.queryValues(request, "embed").contains("lastUnusedOffers")
            let entries: [MarathonJSON.Object] = state.apps.values.sorted { $0.id < $1.id }.compactMap { app in
                let count = state.pendingCount(app)
                guard count > 0 else { return nil }
                return MarathonJSON.queueItem(
                    app: app,
                    count: count,
                    delayLeft: state.delays[app.id].map { $0.until - now } ?? .zero,
                    since: app.versionInfo?.lastConfigChangeAt ?? app.version ?? "",
                    statistics: state.offerStatistics[app.id],
                    embedLastUnusedOffers: embedOffers
                )
            }
            return Self.json(["queue": entries])
        }
        router.delete("/v2/queue/**") { request, _ in
            var path = request.uri.path
            guard path.hasSuffix("/delay") else { throw MarathonAPIError.appNotFound(path) }
            path = String(path.dropFirst("/v2/queue".count).dropLast("/delay".count))
            try await scheduler.resetDelay(Self.normalize(path))
            return Response(status: .noContent)
        }
        router.get("/v2/events") { request, context in
            guard let events else {
                throw MarathonAPIError(.serviceUnavailable, "The event bus is not enabled on this scheduler.")
            }
            guard EventStream.accepts(request.headers[.accept]) else {
                throw MarathonAPIError(
                    .methodNotAllowed,
                    "/v2/events streams server-sent events only: send 'Accept: text/event-stream'."
                )
            }
            let types = EventStream.eventTypes(Self.queryValues(request, "event_type"))
            let remote = Self.clientIP(request, context) ?? "unknown"
            let heartbeat = configuration.eventStreamHeartbeat
            guard let subscription = events.subscribeWithinLimit(eventTypes: types) else {
                throw MarathonAPIError(
                    .serviceUnavailable,
                    "Too many event streams are open (\(events.configuration.maximumSubscribers), "
                        + "--max_event_subscribers); close one or retry later."
                )
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    events.publishStreamAttached(remoteAddress: remote)
                    defer {
                        subscription.finish()
                        events.publishStreamDetached(remoteAddress: remote)
                    }
                    try await withGracefulShutdownHandler {
                        try await EventStream.pump(subscription, heartbeat: heartbeat) { frame in
                            try await writer.write(ByteBuffer(string: frame.encoded))
                        }
                    } onGracefulShutdown: {
                        subscription.finish()
                    }
                    try await writer.finish(nil)
                }
            )
        }
        router.get("/metrics") { _, _ in
            let state = await scheduler.state
            let instances = Array(state.instances.values)
            return Self.json([
                "version": "4.0.0",
                "counters": [:] as MarathonJSON.Object,
                "gauges": [
                    "marathon.apps.active.gauge": ["value": state.apps.count],
                    "marathon.instances.running.gauge": ["value": instances.filter { $0.state == .running }.count],
                    "marathon.instances.staged.gauge": ["value": instances.filter { $0.state == .staging }.count],
                    "marathon.deployments.active.gauge": ["value": state.deployments.count],
                    "marathon.instances.launch-overdue.gauge": ["value": 0],
                    "marathon.http.event-streams.current.gauge": ["value": events?.subscriberCount ?? 0],
                ] as MarathonJSON.Object,
                "histograms": [:] as MarathonJSON.Object, "meters": [:] as MarathonJSON.Object,
                "timers": [:] as MarathonJSON.Object,
            ])
        }
    }

    /// `GET /v2/info`, with only the fields Marathon sends (clients parse it into strict models).
    static func info(
        scheduler: ServiceScheduler,
        frameworkID: FrameworkID?,
        address: String,
        master: String,
        zooKeeper: String? = nil,
        sessionTimeout: Duration = .seconds(10)
    ) -> MarathonJSON.Object {
        let config = scheduler.configuration
        var zooKeeperConfig: MarathonJSON.Object = [:]
        if let zooKeeper {
            let (seconds, attoseconds) = sessionTimeout.components
            zooKeeperConfig = [
                "zk": zooKeeper,
                "zk_session_timeout": Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000),
            ]
        }
        let port = Int(address.split(separator: ":").last ?? "8080") ?? 8080
        return [
            "name": "regatta", "version": "1.10.0", "buildref": "regatta-0.1.0", "elected": true, "leader": address,
            "frameworkId": frameworkID?.value as Any,
            "marathon_config": [
                "master": master, "framework_name": config.frameworkName,
                "failover_timeout": Int(saturating: config.failoverTimeout),
                "hostname": config.hostname, "checkpoint": true, "ha": zooKeeper != nil, "mesos_role": config.role,
                "mesos_user": config.user, "webui_url": config.webuiURL as Any,
                "local_port_min": config.state.localPortMin, "local_port_max": config.state.localPortMax,
                "max_instances_per_offer": config.state.maxInstancesPerOffer,
                "decline_offer_duration": Int(saturating: config.declineOfferSeconds * 1000),
                "reconciliation_interval": Int(config.reconciliationInterval.components.seconds * 1000),
            ] as MarathonJSON.Object,
            "zookeeper_config": zooKeeperConfig,
            "http_config": ["http_port": port] as MarathonJSON.Object,
        ]
    }

    // MARK: - Helpers

    enum AppPathSuffix {
        case none, tasks
        case task(String)
        case restart
        case versions(String?)
    }

    /// Splits `/v2/apps/<id>[/tasks[/<taskId>]|/restart|/versions[/<v>]]`; app ids may contain slashes.
    static func appPath(_ request: Request) -> (id: String, suffix: AppPathSuffix) {
        let rest = String(request.uri.path.dropFirst("/v2/apps".count))
        var segments = rest.split(separator: "/").map(String.init)
        if let index = segments.lastIndex(of: "tasks") {
            let tail = Array(segments[(index + 1)...])
            segments = Array(segments[..<index])
            let id = "/" + segments.joined(separator: "/")
            return (id, tail.isEmpty ? .tasks : .task(tail.joined(separator: "/")))
        }
        if segments.last == "restart" {
            return ("/" + segments.dropLast().joined(separator: "/"), .restart)
        }
        if let index = segments.lastIndex(of: "versions"), index >= segments.count - 2 {
            let version = index == segments.count - 1 ? nil : segments.last
            return ("/" + segments[..<index].joined(separator: "/"), .versions(version))
        }
        return ("/" + segments.joined(separator: "/"), .none)
    }

    /// Makes an app id absolute and drops empty segments (a trailing or doubled slash).
    static func normalize(_ id: String) -> String {
        // Clients that join a base path and an absolute id send `//id`: empty segments are dropped.
        "/" + id.trimmingCharacters(in: .whitespaces).split(separator: "/").joined(separator: "/")
    }

    /// A boolean query parameter: present and empty, `true` or `1` (any case; Python clients send `True`).
    static func flag(_ request: Request, _ name: String, default defaultValue: Bool = false) -> Bool {
        guard let value = Self.queryValue(request, name) else { return defaultValue }
        switch value.lowercased() {
        case "", "true", "1": return true
        case "false", "0": return false
        default: return defaultValue
        }
    }

    /// The client's IP: the connection's peer (with ``MarathonRequestContext``), else `X-Forwarded-For`.
    static func clientIP<Context: RequestContext>(_ request: Request, _ context: Context) -> String? {
        if let address = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress {
            return address
        }
        return request.headers[HTTPField.Name("X-Forwarded-For")!]?.split(separator: ",").first
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func queryValues(_ request: Request, _ name: String) -> Set<String> {
        Set(self.query(request).filter { $0.name == name }.map(\.value))
    }

    /// The first value of a query parameter.
    static func queryValue(_ request: Request, _ name: String) -> String? {
        self.query(request).first { $0.name == name }?.value
    }

    /// The query's parameters, form-decoded: `+` is a space, as in Marathon's servlet container (Python's
    /// `requests` encodes spaces that way).
    static func query(_ request: Request) -> [(name: String, value: String)] {
        guard let query = request.uri.query, !query.isEmpty else { return [] }
        func decode(_ part: Substring) -> String {
            let spaced = part.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        return query.split(separator: "&").map { pair in
            guard let equals = pair.firstIndex(of: "=") else { return (decode(pair), "") }
            return (decode(pair[..<equals]), decode(pair[pair.index(after: equals)...]))
        }
    }

    static func body(_ request: Request) async throws -> Data {
        do {
            let buffer = try await request.body.collect(upTo: self.maximumBodySize)
            return Data(buffer: buffer)
        } catch let error as RequestBodyTooLargeError {
            throw MarathonAPIError(.contentTooLarge, error.message)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            // Over the limit while being read (the listener refuses an announced Content-Length before reading).
            throw MarathonAPIError(.contentTooLarge, RequestBodyTooLargeError(limit: self.maximumBodySize).message)
        } catch {
            // A body whose framing is malformed (a bad chunk size, a Content-Length trailer) is not "too large".
            throw MarathonAPIError(
                .badRequest,
                "The request body could not be read (\(error)); send a valid HTTP/1.1 body."
            )
        }
    }

    /// The listener's answer to a request it refuses before a route runs (`413`, `431`): Marathon's
    /// `{"message": …}`.
    public static let refusal: ListenerLimits.Refusal = { _, message in
        ("application/json", ByteBuffer(bytes: MarathonJSON.data(MarathonJSON.error(message))))
    }

    // Bodies are decoded once, from the bytes as sent; a body is parsed a second time only to explain a failure.
    // (Parsing it first and writing it out again with sorted keys cost superlinear time: 100,000 labels took 12-15 s.)

    /// The app of `POST /v2/apps`; a body that does not decode is refused with Marathon's 400.
    static func decodeApp(_ request: Request) async throws -> AppDefinition {
        let data = try await self.body(request)
        do {
            return try JSONDecoder().decode(AppDefinition.self, from: data)
        } catch let error as DecodingError {
            guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
                throw MarathonAPIError.invalidJSON(
                    path: "/",
                    "the body is not valid JSON; send an app definition object"
                )
            }
            guard object is MarathonJSON.Object else {
                throw MarathonAPIError.invalidJSON(path: "/", "error.expected.jsobject")
            }
            throw Self.invalidJSON(error)
        }
    }

    /// The patch of `PUT`/`PATCH /v2/apps/{id}`; a body that does not decode is refused with Marathon's 400. The
    /// body's `id` is ignored unless it is a string (the path names the app).
    static func decodePatch(_ data: Data) throws -> AppPatch {
        let decoder = JSONDecoder()
        decoder.userInfo[AppPatch.ignoresInvalidID] = true
        do {
            return try decoder.decode(AppPatch.self, from: data)
        } catch let error as DecodingError {
            guard (try? JSONSerialization.jsonObject(with: data)) is MarathonJSON.Object else {
                throw MarathonAPIError.invalidJSON(path: "/", "error.expected.jsobject")
            }
            throw Self.invalidJSON(error)
        }
    }

    /// The patches of the bulk `PUT`/`PATCH /v2/apps`, in order. A body that is not an array of objects is refused
    /// with Marathon's 400 at `/`; an app that does not decode is left in the list as its 400 (at its index), thrown
    /// once the apps before it have been validated, as Marathon reads them one by one.
    static func decodePatches(_ data: Data) throws -> [Result<AppPatch, MarathonAPIError>] {
        /// One element of the list: its patch, or why it does not decode.
        struct Element: Decodable {
            var patch: Result<AppPatch, DecodingError>
            init(from decoder: any Decoder) throws {
                do {
                    self.patch = .success(try AppPatch(from: decoder))
                } catch let error as DecodingError {
                    self.patch = .failure(error)
                }
            }
        }
        let notAList = MarathonAPIError.invalidJSON(path: "/", "error.expected.jsarray")
        guard let elements = try? JSONDecoder().decode([Element].self, from: data) else { throw notAList }
        // An element that is no object makes the whole body invalid, whatever comes before it.
        if elements.contains(where: { Self.isNotAnObject($0.patch) }) { throw notAList }
        return elements.map { $0.patch.mapError(Self.invalidJSON) }
    }

    /// Whether a list element failed to decode because it is not a JSON object (its error is at the element).
    private static func isNotAnObject(_ result: Result<AppPatch, DecodingError>) -> Bool {
        guard case .failure(let error) = result else { return false }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return context.codingPath.count == 1
        default: return false
        }
    }

    /// Marathon's 400 for a body that is JSON but has wrong types: `Invalid JSON`, with the path and the reason.
    static func invalidJSON(_ error: DecodingError) -> MarathonAPIError {
        let (path, message) = Self.describe(error)
        return MarathonAPIError.invalidJSON(path: path, message)
    }

    static func describe(_ error: DecodingError) -> (String, String) {
        func path(_ codingPath: [any CodingKey]) -> String {
            "/" + codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch error {
        case .typeMismatch(let type, let context):
            let expected: String
            switch type {
            case is String.Type: expected = "error.expected.jsstring"
            case is Double.Type, is Int.Type: expected = "error.expected.jsnumber"
            case is Bool.Type: expected = "error.expected.jsboolean"
            case is [Any].Type: expected = "error.expected.jsarray"
            default: expected = "error.expected.jsobject"
            }
            return (path(context.codingPath), expected)
        case .valueNotFound(_, let context):
            return (path(context.codingPath), "error.path.missing")
        case .keyNotFound(let key, let context):
            return (path(context.codingPath + [key]), "error.path.missing")
        case .dataCorrupted(let context):
            return (path(context.codingPath), context.debugDescription)
        @unknown default:
            return ("/", "\(error)")
        }
    }

    static func validate(_ app: AppDefinition, prefix: String = "", policy: ContainerPolicy) throws {
        let violations = AppValidator.validate(app, policy: policy)
        guard violations.isEmpty else {
            throw MarathonAPIError(
                .unprocessableContent,
                "Object is not valid",
                details: violations.map { ValidationViolation(path: prefix + $0.path, errors: $0.errors) }
            )
        }
    }

    /// A stored version of an app; 404 when the store does not have it.
    static func storedVersion(
        _ id: String,
        _ version: String,
        in store: any SchedulerStore
    ) async throws
        -> AppDefinition
    {
        guard let app = try await store.appVersion(id: id, version: version) else {
            throw MarathonAPIError(.notFound, "App '\(id)' does not exist in version \(version)")
        }
        return app
    }

    static func killResponse(
        _ killed: [Instance],
        deployment: Deployment?,
        single: Bool,
        scheduler: ServiceScheduler,
        now: Date
    ) async throws -> Response {
        if let deployment {
            return Self.json(
                ["deploymentId": deployment.id, "version": deployment.version],
                headers: [.marathonDeploymentID: deployment.id]
            )
        }
        let view = MarathonAppsView(
            state: await scheduler.state,
            healthResults: await scheduler.healthResults,
            now: now
        )
        if single, let first = killed.first { return Self.json(bytes: view.taskDocument(first)) }
        return Self.json(bytes: view.tasksDocument(killed))
    }

    static func json(
        _ object: MarathonJSON.Object,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:]
    )
        -> Response
    {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: MarathonJSON.data(object)))
        )
    }

    /// A response with a body already written as JSON.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func jsonArray(_ array: [MarathonJSON.Object]) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: MarathonJSON.data(array)))
        )
    }
}

extension HTTPField.Name {
    /// `Marathon-Deployment-Id`, set on responses that start a deployment.
    public static let marathonDeploymentID = HTTPField.Name("Marathon-Deployment-Id")!
}

/// Marathon's `label` filter: `k`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, comma-separated.
enum LabelSelector {
    static func matches(_ selector: String, labels: [String: String]) -> Bool {
        var terms: [String] = []
        var depth = 0
        var current = ""
        for character in selector {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms.allSatisfy { term in
            let term = term.trimmingCharacters(in: .whitespaces)
            if let range = term.range(of: "!=") {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                return labels[key] != term[range.upperBound...].trimmingCharacters(in: .whitespaces)
            }
            if let range = term.range(of: "==") {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                return labels[key] == term[range.upperBound...].trimmingCharacters(in: .whitespaces)
            }
            for (word, negate) in [(" notin ", true), (" in ", false)] {
                if let range = term.range(of: word) {
                    let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                    let values = term[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: " ()"))
                        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    let contained = labels[key].map { values.contains($0) } ?? false
                    return negate ? !contained : contained
                }
            }
            return labels[term] != nil
        }
    }
}
