// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegattaCore

/// Marathon's REST API v2 over the ``ServiceScheduler``.
public struct MarathonRoutes: Sendable {
    public let scheduler: ServiceScheduler
    /// `host:port` this scheduler serves on, reported as the leader.
    public let advertisedAddress: String

    public init(scheduler: ServiceScheduler, advertisedAddress: String) {
        self.scheduler = scheduler
        self.advertisedAddress = advertisedAddress
    }

    static let maximumBodySize = 8 << 20

    /// Adds the `/v2` routes, `/ping` and `/metrics` to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let scheduler = self.scheduler
        let address = self.advertisedAddress
        router.get("/ping") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "pong")))
        }
        router.get("/v2/leader") { _, _ in Self.json(["leader": address]) }
        router.get("/v2/info") { _, _ in
            let frameworkID = await scheduler.frameworkID
            return Self.json([
                "name": "regatta", "version": "1.10.0", "regattaVersion": "0.1.0", "elected": true, "leader": address,
                "frameworkId": frameworkID?.value as Any,
                "marathon_config": ["master": "", "framework_name": scheduler.configuration.frameworkName,
                                    "failover_timeout": scheduler.configuration.failoverTimeout,
                                    "hostname": scheduler.configuration.hostname] as MarathonJSON.Object,
                "zookeeper_config": [:] as MarathonJSON.Object,
                "http_config": ["http_port": Int(address.split(separator: ":").last ?? "8080") ?? 8080] as MarathonJSON.Object,
            ])
        }
        router.get("/v2/apps") { request, _ in
            let state = await scheduler.state
            let embed = Self.queryValues(request, "embed")
            var apps = state.apps.values.sorted { $0.id < $1.id }
            if let cmd = request.uri.queryParameters.get("cmd") {
                apps = apps.filter { ($0.cmd ?? "").contains(cmd) }
            }
            if let id = request.uri.queryParameters.get("id") {
                apps = apps.filter { $0.id.contains(id) }
            }
            if let selector = request.uri.queryParameters.get("label") {
                apps = apps.filter { LabelSelector.matches(selector, labels: $0.labels) }
            }
            return Self.json([
                "apps": apps.map {
                    MarathonJSON.appInfo(
                        $0, state: state, embedTasks: embed.contains("apps.tasks"),
                        embedLastTaskFailure: embed.contains("apps.lastTaskFailure"))
                }
            ])
        }
        router.post("/v2/apps") { request, _ in
            await Self.handle {
                var app = try await Self.decodeApp(request)
                app.id = Self.normalize(app.id)
                try Self.validate(app)
                let (stored, deployment) = try await scheduler.createApp(app)
                var body = MarathonJSON.appInfo(stored, state: await scheduler.state, embedTasks: false)
                body["deployments"] = [["id": deployment.id]]
                return Self.json(
                    body, status: .created,
                    headers: [.location: "/v2/apps\(stored.id)", .marathonDeploymentID: deployment.id])
            }
        }
        router.put("/v2/apps") { request, _ in
            await Self.handle {
                let force = Self.flag(request, "force")
                let data = try await Self.body(request)
                guard let array = try? JSONSerialization.jsonObject(with: data) as? [MarathonJSON.Object] else {
                    throw SchedulerError(.invalidJSON, "Invalid JSON", details: [.init(path: "/", errors: ["error.expected.jsarray"])])
                }
                var lastDeployment: Deployment?
                var apps: [AppDefinition] = []
                for (index, object) in array.enumerated() {
                    var app = try Self.decode(object, prefix: "/\(index)")
                    app.id = Self.normalize(app.id)
                    try Self.validate(app, prefix: "/\(index)")
                    apps.append(app)
                }
                for app in apps {
                    let merged = try await Self.merge(app.id, scheduler: scheduler, with: array[apps.firstIndex(of: app)!])
                    lastDeployment = try await scheduler.putApp(merged, force: force).1
                }
                return Self.json(
                    ["deploymentId": lastDeployment?.id ?? "", "version": lastDeployment?.version ?? ""],
                    headers: lastDeployment.map { [.marathonDeploymentID: $0.id] } ?? [:])
            }
        }
        router.get("/v2/apps/**") { request, _ in
            await Self.handle {
                let path = Self.appPath(request)
                let state = await scheduler.state
                switch path.suffix {
                case .none:
                    guard let app = state.apps[path.id] else { throw Self.notFound(path.id) }
                    let embed = Self.queryValues(request, "embed")
                    return Self.json([
                        "app": MarathonJSON.appInfo(
                            app, state: state, embedTasks: true,
                            embedLastTaskFailure: embed.contains("app.lastTaskFailure") || true)
                    ])
                case .tasks:
                    guard let app = state.apps[path.id] else { throw Self.notFound(path.id) }
                    return Self.json([
                        "tasks": state.instances(ofApp: app.id).filter { !$0.state.isTerminal }
                            .map { MarathonJSON.task($0, app: app) }
                    ])
                case .versions(let version):
                    guard state.apps[path.id] != nil else { throw Self.notFound(path.id) }
                    let store = await scheduler.storeForReads
                    if let version {
                        guard let app = try await store.appVersion(id: path.id, version: version) else {
                            throw SchedulerError(.appNotFound, "App '\(path.id)' does not exist in version \(version)")
                        }
                        return Self.json(MarathonJSON.object(app))
                    }
                    return Self.json(["versions": try await store.appVersions(id: path.id)])
                default:
                    throw Self.notFound(path.id)
                }
            }
        }
        router.put("/v2/apps/**") { request, _ in
            await Self.handle {
                let path = Self.appPath(request)
                guard case .none = path.suffix else { throw Self.notFound(path.id) }
                let data = try await Self.body(request)
                guard var object = try? JSONSerialization.jsonObject(with: data) as? MarathonJSON.Object else {
                    throw SchedulerError(.invalidJSON, "Invalid JSON", details: [.init(path: "/", errors: ["error.expected.jsobject"])])
                }
                if let bodyID = object["id"] as? String, Self.normalize(bodyID) != path.id {
                    throw SchedulerError(
                        .invalidApp, "Object is not valid",
                        details: [.init(path: "/id", errors: ["the id in the body ('\(bodyID)') differs from the path ('\(path.id)')"])])
                }
                object["id"] = path.id
                let partial = request.uri.queryParameters.get("partialUpdate").map { $0 != "false" } ?? true
                let app: AppDefinition
                if partial {
                    app = try await Self.merge(path.id, scheduler: scheduler, with: object)
                } else {
                    app = try Self.decode(object, prefix: "")
                }
                try Self.validate(app)
                let (_, deployment, created) = try await scheduler.putApp(app, force: Self.flag(request, "force"))
                return Self.json(
                    ["deploymentId": deployment.id, "version": deployment.version], status: created ? .created : .ok,
                    headers: [.marathonDeploymentID: deployment.id])
            }
        }
        router.post("/v2/apps/**") { request, _ in
            await Self.handle {
                let path = Self.appPath(request)
                guard case .restart = path.suffix else { throw Self.notFound(path.id) }
                let (_, deployment) = try await scheduler.restartApp(path.id, force: Self.flag(request, "force"))
                return Self.json(
                    ["deploymentId": deployment.id, "version": deployment.version],
                    headers: [.marathonDeploymentID: deployment.id])
            }
        }
        router.delete("/v2/apps/**") { request, _ in
            await Self.handle {
                let path = Self.appPath(request)
                let scale = Self.flag(request, "scale")
                let force = request.uri.queryParameters.get("force").map { $0 != "false" } ?? false
                switch path.suffix {
                case .none:
                    // Marathon's code defaults `force` to true for DELETE of an app.
                    let deployment = try await scheduler.deleteApp(
                        path.id, force: request.uri.queryParameters.get("force").map { $0 != "false" } ?? true)
                    return Self.json(
                        ["deploymentId": deployment.id, "version": deployment.version],
                        headers: [.marathonDeploymentID: deployment.id])
                case .tasks:
                    let host = request.uri.queryParameters.get("host").map { String($0) }
                    let (killed, deployment) = try await scheduler.killTasks(
                        appId: path.id, taskIDs: nil, host: host, scale: scale, force: force)
                    return try await Self.killResponse(killed, deployment: deployment, single: false, scheduler: scheduler)
                case .task(let taskID):
                    let (killed, deployment) = try await scheduler.killTasks(
                        appId: path.id, taskIDs: [TaskID(taskID)], host: nil, scale: scale, force: force)
                    return try await Self.killResponse(killed, deployment: deployment, single: true, scheduler: scheduler)
                default:
                    throw Self.notFound(path.id)
                }
            }
        }
        router.get("/v2/tasks") { request, _ in
            let state = await scheduler.state
            let status = request.uri.queryParameters.get("status")
            let tasks = state.instances.values.sorted { $0.id < $1.id }.filter { instance in
                switch status {
                case "running": instance.state == .running
                case "staging": instance.state == .staging || instance.state == .starting
                default: !instance.state.isTerminal
                }
            }
            return Self.json(["tasks": tasks.map { MarathonJSON.task($0, app: state.apps[$0.appId]) }])
        }
        router.post("/v2/tasks/delete") { request, _ in
            await Self.handle {
                let data = try await Self.body(request)
                guard let object = try? JSONSerialization.jsonObject(with: data) as? MarathonJSON.Object,
                    let ids = object["ids"] as? [String]
                else {
                    throw SchedulerError(.invalidJSON, "Invalid JSON", details: [.init(path: "/ids", errors: ["error.expected.jsarray"])])
                }
                let killed = try await scheduler.killTasks(
                    ids: ids.map(TaskID.init), scale: Self.flag(request, "scale"), force: Self.flag(request, "force"))
                let state = await scheduler.state
                return Self.json(["tasks": killed.map { MarathonJSON.task($0, app: state.apps[$0.appId]) }])
            }
        }
        router.get("/v2/deployments") { _, _ in
            let state = await scheduler.state
            return Self.jsonArray(state.deployments.values.sorted { $0.id < $1.id }.map(MarathonJSON.deployment))
        }
        router.delete("/v2/deployments/:id") { request, context in
            await Self.handle {
                let id = context.parameters.get("id") ?? ""
                let force = Self.flag(request, "force")
                let rollback = try await scheduler.cancelDeployment(id, force: force)
                if force || rollback == nil { return Response(status: .accepted) }
                return Self.json(
                    ["deploymentId": rollback!.id, "version": rollback!.version],
                    headers: [.marathonDeploymentID: rollback!.id])
            }
        }
        router.get("/v2/queue") { _, _ in
            let state = await scheduler.state
            let now = await scheduler.uptimeNow()
            let entries: [MarathonJSON.Object] = state.apps.values.sorted { $0.id < $1.id }.compactMap { app in
                let count = state.pendingCount(app)
                guard count > 0 else { return nil }
                let delay = state.delays[app.id]
                let left = delay.map { max(0, ($0.until - now).seconds) } ?? 0
                return [
                    "app": MarathonJSON.object(app), "count": count, "role": app.role ?? "*",
                    "delay": ["timeLeftSeconds": Int(left.rounded(.up)), "overdue": left <= 0] as MarathonJSON.Object,
                    "since": app.version ?? "",
                ]
            }
            return Self.json(["queue": entries])
        }
        router.delete("/v2/queue/**") { request, _ in
            await Self.handle {
                var path = request.uri.path
                guard path.hasSuffix("/delay") else { throw Self.notFound(path) }
                path = String(path.dropFirst("/v2/queue".count).dropLast("/delay".count))
                try await scheduler.resetDelay(Self.normalize(path))
                return Response(status: .noContent)
            }
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
                ] as MarathonJSON.Object,
                "histograms": [:] as MarathonJSON.Object, "meters": [:] as MarathonJSON.Object,
                "timers": [:] as MarathonJSON.Object,
            ])
        }
    }

    // MARK: - Helpers

    enum AppPathSuffix {
        case none, tasks, task(String), restart, versions(String?)
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

    /// Makes an app id absolute and drops a trailing slash.
    static func normalize(_ id: String) -> String {
        var id = id.trimmingCharacters(in: .whitespaces)
        if !id.hasPrefix("/") { id = "/" + id }
        while id.count > 1 && id.hasSuffix("/") { id.removeLast() }
        return id
    }

    static func flag(_ request: Request, _ name: String) -> Bool {
        guard let value = request.uri.queryParameters.get(name) else { return false }
        return value.isEmpty || value == "true" || value == "1"
    }

    static func queryValues(_ request: Request, _ name: String) -> Set<String> {
        Set(request.uri.queryParameters.getAll(name).map { String($0) })
    }

    static func body(_ request: Request) async throws -> Data {
        do {
            let buffer = try await request.body.collect(upTo: self.maximumBodySize)
            return Data(buffer: buffer)
        } catch {
            throw SchedulerError(.invalidJSON, "Request body is larger than \(self.maximumBodySize) bytes")
        }
    }

    static func decodeApp(_ request: Request) async throws -> AppDefinition {
        let data = try await self.body(request)
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw SchedulerError(
                .invalidJSON, "Invalid JSON",
                details: [.init(path: "/", errors: ["the body is not valid JSON; send an app definition object"])])
        }
        guard let dictionary = object as? MarathonJSON.Object else {
            throw SchedulerError(.invalidJSON, "Invalid JSON", details: [.init(path: "/", errors: ["error.expected.jsobject"])])
        }
        return try self.decode(dictionary, prefix: "")
    }

    /// Decodes an app from a JSON object, turning type errors into Marathon's 400 with the JSON path.
    static func decode(_ object: MarathonJSON.Object, prefix: String) throws -> AppDefinition {
        let data = MarathonJSON.data(object)
        do {
            return try JSONDecoder().decode(AppDefinition.self, from: data)
        } catch let error as DecodingError {
            let (path, message) = Self.describe(error)
            throw SchedulerError(.invalidJSON, "Invalid JSON", details: [.init(path: prefix + path, errors: [message])])
        }
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

    static func validate(_ app: AppDefinition, prefix: String = "") throws {
        let violations = AppValidator.validate(app)
        guard violations.isEmpty else {
            throw SchedulerError(
                .invalidApp, "Object is not valid",
                details: violations.map { ValidationViolation(path: prefix + $0.path, errors: $0.errors) })
        }
    }

    /// Overlays the given fields on the stored app (partial update); a new app if none is stored.
    static func merge(_ id: String, scheduler: ServiceScheduler, with object: MarathonJSON.Object) async throws
        -> AppDefinition
    {
        guard let existing = await scheduler.state.apps[id] else {
            return try self.decode(object, prefix: "")
        }
        var base = MarathonJSON.object(existing)
        for key in ["version", "versionInfo", "ports", "uris"] { base[key] = nil }
        for (key, value) in object { base[key] = value }
        if object["ports"] != nil && object["portDefinitions"] == nil { base["portDefinitions"] = nil }
        if object["uris"] != nil && object["fetch"] == nil { base["fetch"] = nil }
        if object["ports"] != nil { base["ports"] = object["ports"] }
        if object["uris"] != nil { base["uris"] = object["uris"] }
        return try self.decode(base, prefix: "")
    }

    static func killResponse(_ killed: [Instance], deployment: Deployment?, single: Bool, scheduler: ServiceScheduler)
        async throws -> Response
    {
        if let deployment {
            return Self.json(
                ["deploymentId": deployment.id, "version": deployment.version],
                headers: [.marathonDeploymentID: deployment.id])
        }
        let state = await scheduler.state
        let tasks = killed.map { MarathonJSON.task($0, app: state.apps[$0.appId]) }
        if single, let first = tasks.first { return Self.json(["task": first]) }
        return Self.json(["tasks": tasks])
    }

    static func notFound(_ id: String) -> SchedulerError {
        SchedulerError(.appNotFound, "App '\(id)' does not exist")
    }

    static func json(_ object: MarathonJSON.Object, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
        -> Response
    {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: MarathonJSON.data(object))))
    }

    static func jsonArray(_ array: [MarathonJSON.Object]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: MarathonJSON.data(array))))
    }

    /// Runs a handler, mapping `SchedulerError`s to Marathon's status codes and bodies.
    static func handle(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as SchedulerError {
            let status: HTTPResponse.Status
            switch error.code {
            case .appNotFound, .taskNotFound: status = .notFound
            case .appExists: status = .conflict
            case .appLocked:
                return Self.json(
                    ["message": error.message, "deployments": error.deploymentIDs.map { ["id": $0] }], status: .conflict)
            case .invalidApp: status = .unprocessableContent
            case .invalidJSON: status = .badRequest
            case .storeUnavailable, .notLeader, .masterUnavailable: status = .serviceUnavailable
            default: status = .internalServerError
            }
            return Self.json(MarathonJSON.error(error.message, details: error.details), status: status)
        } catch {
            return Self.json(MarathonJSON.error("Internal error: \(error)"), status: .internalServerError)
        }
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
