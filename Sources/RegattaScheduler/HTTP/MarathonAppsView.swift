// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The read endpoints' documents (`/v2/apps`, `/v2/apps/{id}`, `/v2/apps/{id}/tasks`, `/v2/tasks`) over one copy of
/// the scheduler's state, written straight to JSON bytes by the Core ``JSONWriter`` (see `JSONWriter+Marathon`).
///
/// The documents are byte for byte those the `[String: Any]` trees of the apps' `Codable` form serialized by
/// ``MarathonJSON/data(_:)`` gave: same keys, values and key order (`MarathonAppsViewTests` compares them).
struct MarathonAppsView {
    let state: SchedulerState
    /// Scheduler-run health check results by instance id.
    let healthResults: [String: [HealthCheckResult]]
    /// The time task life times are measured to (`taskStats`).
    let now: Date
    private let deploymentsByApp: [String: [Deployment]]

    init(state: SchedulerState, healthResults: [String: [HealthCheckResult]], now: Date) {
        self.state = state
        self.healthResults = healthResults
        self.now = now
        var byApp: [String: [Deployment]] = [:]
        for deployment in state.deployments.values { byApp[deployment.appId, default: []].append(deployment) }
        for key in byApp.keys { byApp[key]!.sort { $0.id < $1.id } }
        self.deploymentsByApp = byApp
    }

    /// `{"apps":[AppInfo…]}`.
    func appsDocument(_ apps: [AppDefinition], embed: MarathonJSON.AppEmbed) -> [UInt8] {
        let tasks = embed.contains(.tasks) ? self.state.instances.count : 0
        var writer = JSONWriter(capacity: 4096 + apps.count * 1536 + tasks * 640)
        writer.beginObject()
        writer.key("apps")
        writer.writeArray(apps) { writer, app in self.writeAppInfo(app, embed: embed, to: &writer) }
        writer.endObject()
        return writer.bytes
    }

    /// `{"app":AppInfo}`.
    func appDocument(_ app: AppDefinition, embed: MarathonJSON.AppEmbed) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("app")
        self.writeAppInfo(app, embed: embed, to: &writer)
        writer.endObject()
        return writer.bytes
    }

    /// The AppInfo `POST /v2/apps` answers with: the stored app, its counts and the deployment that starts it.
    func createdAppDocument(_ app: AppDefinition, deployment: Deployment) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        self.writeAppInfo(app, embed: [.counts, .deployments], deploymentIDs: [deployment.id], to: &writer)
        return writer.bytes
    }

    /// An app definition alone (`/v2/apps/{id}/versions/{version}`): its `Codable` form, keys sorted.
    static func definitionDocument(_ app: AppDefinition) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        MarathonAppsView(state: SchedulerState(), healthResults: [:], now: Date(timeIntervalSince1970: 0))
            .writeAppInfo(app, embed: [], to: &writer)
        return writer.bytes
    }

    /// `{"tasks":[Task…]}`, each task with its app's service ports.
    func tasksDocument(_ instances: [Instance]) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024 + instances.count * 640)
        var servicePorts: [String: [Int]] = [:]
        writer.beginObject()
        writer.key("tasks")
        writer.writeArray(instances) { writer, instance in
            let ports: [Int]
            if let cached = servicePorts[instance.appId] {
                ports = cached
            } else {
                ports = MarathonJSON.servicePorts(self.state.apps[instance.appId])
                servicePorts[instance.appId] = ports
            }
            Self.writeTask(instance, servicePorts: ports, healthResults: self.healthResults[instance.id], to: &writer)
        }
        writer.endObject()
        return writer.bytes
    }

    /// `{"task":Task}`, with its app's service ports.
    func taskDocument(_ instance: Instance) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.key("task")
        Self.writeTask(
            instance,
            servicePorts: MarathonJSON.servicePorts(self.state.apps[instance.appId]),
            healthResults: self.healthResults[instance.id],
            to: &writer
        )
        writer.endObject()
        return writer.bytes
    }

    // MARK: - AppInfo

    /// AppInfo's keys (the definition's and the embeds'), in the order `.sortedKeys` puts them.
    enum AppInfoKey: String, CaseIterable {
        case acceptedResourceRoles, args, backoffFactor, backoffSeconds, cmd, constraints, container, cpus
        case deployments, disk, env, fetch, gpus, healthChecks, id, instances, killSelection, labels
        case lastTaskFailure, maxLaunchDelaySeconds, mem, networks, portDefinitions, ports, readinessCheckResults
        case requirePorts, role, taskKillGracePeriodSeconds, tasks, tasksHealthy, tasksRunning, tasksStaged
        case tasksUnhealthy, taskStats, unreachableStrategy, upgradeStrategy, uris, user, version, versionInfo

        static let ordered = Self.allCases.sorted { JSONWriter.marathonKeyPrecedes($0.rawValue, $1.rawValue) }
    }

    /// Task's keys, in the order `.sortedKeys` puts them.
    enum TaskKey: String, CaseIterable {
        case appId, healthCheckResults, host, id, ipAddresses, localVolumes, ports, servicePorts, slaveId, stagedAt
        case startedAt, state, version

        static let ordered = Self.allCases.sorted { JSONWriter.marathonKeyPrecedes($0.rawValue, $1.rawValue) }
    }

    /// One AppInfo: the definition plus what `embed` asks for; `deploymentIDs` replaces the app's deployments.
    func writeAppInfo(
        _ app: AppDefinition,
        embed: MarathonJSON.AppEmbed,
        deploymentIDs: [String]? = nil,
        to writer: inout JSONWriter
    ) {
        // TaskCounts counts no terminal instance: only the task list and taskStats skip them.
        let instances = self.state.instances(ofApp: app.id)
        let counts = embed.contains(.counts) ? MarathonJSON.TaskCounts(instances) : nil
        let failure = embed.contains(.lastTaskFailure) ? self.state.lastTaskFailures[app.id] : nil
        writer.beginObject()
        for key in AppInfoKey.ordered {
            let name = key.rawValue
            switch key {
            case .acceptedResourceRoles:
                guard let roles = app.acceptedResourceRoles else { continue }
                writer.key(named: name)
                writer.write(strings: roles)
            case .args:
                writer.key(named: name)
                if let args = app.args { writer.write(strings: args) } else { writer.writeNull() }
            case .backoffFactor:
                writer.key(named: name)
                writer.writeEncodedNumber(app.backoffFactor)
            case .backoffSeconds:
                writer.key(named: name)
                writer.writeEncodedNumber(app.backoffSeconds)
            case .cmd:
                writer.key(named: name)
                writer.write(orNull: app.cmd)
            case .constraints:
                writer.key(named: name)
                writer.writeArray(app.constraints) { writer, constraint in writer.write(strings: constraint) }
            case .container:
                guard let container = app.container else { continue }
                writer.key(named: name)
                writer.write(container)
            case .cpus:
                writer.key(named: name)
                writer.writeEncodedNumber(app.cpus)
            case .deployments:
                guard embed.contains(.deployments) else { continue }
                writer.key(named: name)
                writer.writeArray(deploymentIDs ?? (self.deploymentsByApp[app.id] ?? []).map(\.id)) { writer, id in
                    writer.beginObject()
                    writer.key("id")
                    writer.write(id)
                    writer.endObject()
                }
            case .disk:
                writer.key(named: name)
                writer.writeEncodedNumber(app.disk)
            case .env:
                writer.key(named: name)
                writer.writeSortedObject(app.env)
            case .fetch:
                writer.key(named: name)
                writer.writeArray(app.fetch) { writer, fetch in writer.write(fetch) }
            case .gpus:
                writer.key(named: name)
                writer.writeEncodedNumber(app.gpus)
            case .healthChecks:
                writer.key(named: name)
                writer.writeArray(app.healthChecks) { writer, check in writer.write(check) }
            case .id:
                writer.key(named: name)
                writer.write(app.id)
            case .instances:
                writer.key(named: name)
                writer.write(app.instances)
            case .killSelection:
                writer.key(named: name)
                writer.write(app.killSelection)
            case .labels:
                writer.key(named: name)
                writer.writeSortedObject(app.labels)
            case .lastTaskFailure:
                guard let failure else { continue }
                writer.key(named: name)
                writer.write(failure)
            case .maxLaunchDelaySeconds:
                writer.key(named: name)
                writer.writeEncodedNumber(app.maxLaunchDelaySeconds)
            case .mem:
                writer.key(named: name)
                writer.writeEncodedNumber(app.mem)
            case .networks:
                guard let networks = app.networks else { continue }
                writer.key(named: name)
                writer.writeArray(networks) { writer, network in
                    writer.beginObject()
                    writer.key("mode")
                    writer.write(network.mode)
                    writer.field("name", ifPresent: network.name) { $0.write($1) }
                    writer.endObject()
                }
            case .portDefinitions:
                writer.key(named: name)
                writer.writeArray(app.portDefinitions) { writer, definition in writer.write(definition) }
            case .ports:
                writer.key(named: name)
                writer.writeArray(app.portDefinitions) { writer, definition in writer.write(definition.port) }
            case .readinessCheckResults:
                guard embed.contains(.readiness) else { continue }
                writer.key(named: name)
                writer.beginArray()
                writer.endArray()
            case .requirePorts:
                writer.key(named: name)
                writer.write(app.requirePorts)
            case .role:
                guard let role = app.role else { continue }
                writer.key(named: name)
                writer.write(role)
            case .taskKillGracePeriodSeconds:
                guard let seconds = app.taskKillGracePeriodSeconds else { continue }
                writer.key(named: name)
                writer.writeEncodedNumber(seconds)
            case .tasks:
                guard embed.contains(.tasks) else { continue }
                writer.key(named: name)
                let servicePorts = MarathonJSON.servicePorts(app)
                writer.writeArray(instances.lazy.filter { !$0.state.isTerminal }) { writer, instance in
                    Self.writeTask(
                        instance,
                        servicePorts: servicePorts,
                        healthResults: self.healthResults[instance.id],
                        to: &writer
                    )
                }
            case .tasksHealthy:
                guard let counts else { continue }
                writer.key(named: name)
                writer.write(counts.healthy)
            case .tasksRunning:
                guard let counts else { continue }
                writer.key(named: name)
                writer.write(counts.running)
            case .tasksStaged:
                guard let counts else { continue }
                writer.key(named: name)
                writer.write(counts.staged)
            case .tasksUnhealthy:
                guard let counts else { continue }
                writer.key(named: name)
                writer.write(counts.unhealthy)
            case .taskStats:
                guard embed.contains(.taskStats) else { continue }
                writer.key(named: name)
                self.writeTaskStats(app, instances: instances.filter { !$0.state.isTerminal }, to: &writer)
            case .unreachableStrategy:
                writer.key(named: name)
                writer.write(app.unreachableStrategy)
            case .upgradeStrategy:
                writer.key(named: name)
                writer.beginObject()
                writer.key("maximumOverCapacity")
                writer.writeEncodedNumber(app.upgradeStrategy.maximumOverCapacity)
                writer.key("minimumHealthCapacity")
                writer.writeEncodedNumber(app.upgradeStrategy.minimumHealthCapacity)
                writer.endObject()
            case .uris:
                writer.key(named: name)
                writer.writeArray(app.fetch) { writer, fetch in writer.write(fetch.uri) }
            case .user:
                writer.key(named: name)
                writer.write(orNull: app.user)
            case .version:
                guard let version = app.version else { continue }
                writer.key(named: name)
                writer.write(version)
            case .versionInfo:
                guard let info = app.versionInfo else { continue }
                writer.key(named: name)
                writer.beginObject()
                writer.key("lastConfigChangeAt")
                writer.write(info.lastConfigChangeAt)
                writer.key("lastScalingAt")
                writer.write(info.lastScalingAt)
                writer.endObject()
            }
        }
        writer.endObject()
    }

    /// Marathon's `taskStats`, as ``MarathonJSON/taskStats(_:instances:now:)`` computes it.
    func writeTaskStats(_ app: AppDefinition, instances: [Instance], to writer: inout JSONWriter) {
        let lastScaling = (app.versionInfo?.lastScalingAt ?? app.version).flatMap(MarathonJSON.date)
        let afterScaling = instances.filter { instance in
            guard let lastScaling, let staged = MarathonJSON.date(instance.stagedAt) else { return false }
            return staged >= lastScaling
        }
        let categories: [(name: StaticString, instances: [Instance])] = [
            ("startedAfterLastScaling", afterScaling),
            ("totalSummary", instances),
            ("withLatestConfig", instances.filter { $0.version == app.configVersion }),
            ("withOutdatedConfig", instances.filter { $0.version != app.configVersion }),
        ]
        writer.beginObject()
        for category in categories where !category.instances.isEmpty {
            writer.key(category.name)
            let counts = MarathonJSON.TaskCounts(category.instances)
            writer.beginObject()
            writer.key("stats")
            writer.beginObject()
            writer.key("counts")
            writer.beginObject()
            writer.key("healthy")
            writer.write(counts.healthy)
            writer.key("running")
            writer.write(counts.running)
            writer.key("staged")
            writer.write(counts.staged)
            writer.key("unhealthy")
            writer.write(counts.unhealthy)
            writer.endObject()
            let lifeTimes = category.instances.filter { $0.state == .running }
                .compactMap { $0.startedAt.flatMap(MarathonJSON.date) }
                .map { max(0, self.now.timeIntervalSince($0)) }
                .sorted()
            if !lifeTimes.isEmpty {
                let middle = lifeTimes.count / 2
                let median =
                    lifeTimes.count % 2 == 1 ? lifeTimes[middle] : (lifeTimes[middle - 1] + lifeTimes[middle]) / 2
                writer.key("lifeTime")
                writer.beginObject()
                writer.key("averageSeconds")
                writer.writeNumber(lifeTimes.reduce(0, +) / Double(lifeTimes.count))
                writer.key("medianSeconds")
                writer.writeNumber(median)
                writer.endObject()
            }
            writer.endObject()
            writer.endObject()
        }
        writer.endObject()
    }

    // MARK: - Task

    /// Marathon's Task, as ``MarathonJSON/task(_:app:healthResults:)`` builds it.
    static func writeTask(
        _ instance: Instance,
        servicePorts: [Int],
        healthResults: [HealthCheckResult]?,
        to writer: inout JSONWriter
    ) {
        writer.beginObject()
        for key in TaskKey.ordered {
            let name = key.rawValue
            switch key {
            case .appId:
                writer.key(named: name)
                writer.write(instance.appId)
            case .healthCheckResults:
                writer.key(named: name)
                if let healthResults, !healthResults.isEmpty {
                    writer.writeArray(healthResults) { writer, result in writer.write(result) }
                } else if let healthy = instance.healthy {
                    writer.beginArray()
                    writer.beginObject()
                    writer.key("alive")
                    writer.write(healthy)
                    writer.key("consecutiveFailures")
                    writer.write(healthy ? Int(0) : Int(1))
                    writer.key("instanceId")
                    writer.write(instance.id)
                    writer.endObject()
                    writer.endArray()
                } else {
                    writer.beginArray()
                    writer.endArray()
                }
            case .host:
                writer.key(named: name)
                writer.write(instance.host ?? "")
            case .id:
                writer.key(named: name)
                writer.write(instance.taskId.value)
            case .ipAddresses:
                writer.key(named: name)
                writer.beginArray()
                if let host = instance.host, !host.isEmpty {
                    writer.beginObject()
                    writer.key("ipAddress")
                    writer.write(host)
                    writer.key("protocol")
                    writer.writeRaw("IPv4")
                    writer.endObject()
                }
                writer.endArray()
            case .localVolumes:
                writer.key(named: name)
                writer.beginArray()
                writer.endArray()
            case .ports:
                writer.key(named: name)
                writer.write(integers: instance.ports)
            case .servicePorts:
                writer.key(named: name)
                writer.write(integers: servicePorts)
            case .slaveId:
                writer.key(named: name)
                writer.write(instance.agentId?.value ?? "")
            case .stagedAt:
                writer.key(named: name)
                writer.write(instance.stagedAt)
            case .startedAt:
                guard let startedAt = instance.startedAt else { continue }
                writer.key(named: name)
                writer.write(startedAt)
            case .state:
                writer.key(named: name)
                writer.write(instance.state.rawValue)
            case .version:
                writer.key(named: name)
                writer.write(instance.version)
            }
        }
        writer.endObject()
    }
}
