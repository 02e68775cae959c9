// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The read endpoints' documents (`/v2/apps`, `/v2/apps/{id}`, `/v2/apps/{id}/tasks`, `/v2/tasks`) over one copy of
/// the scheduler's state, written straight to JSON bytes by ``MarathonJSONWriter``.
///
/// The documents are byte for byte those of ``MarathonJSON/appInfo(_:state:embed:healthResults:now:)`` and
/// ``MarathonJSON/task(_:app:healthResults:)`` serialized by ``MarathonJSON/data(_:)``: same keys, values and key
/// order (`MarathonAppsViewTests` compares them), without building `[String: Any]` trees.
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
        var writer = MarathonJSONWriter(capacity: 4096 + apps.count * 1536 + tasks * 640)
        writer.raw("{\"apps\":")
        writer.array(apps) { writer, app in self.writeAppInfo(app, embed: embed, to: &writer) }
        writer.raw("}")
        return writer.bytes
    }

    /// `{"app":AppInfo}`.
    func appDocument(_ app: AppDefinition, embed: MarathonJSON.AppEmbed) -> [UInt8] {
        var writer = MarathonJSONWriter()
        writer.raw("{\"app\":")
        self.writeAppInfo(app, embed: embed, to: &writer)
        writer.raw("}")
        return writer.bytes
    }

    /// `{"tasks":[Task…]}`, each task with its app's service ports.
    func tasksDocument(_ instances: [Instance]) -> [UInt8] {
        var writer = MarathonJSONWriter(capacity: 1024 + instances.count * 640)
        var servicePorts: [String: [Int]] = [:]
        writer.raw("{\"tasks\":")
        writer.array(instances) { writer, instance in
            let ports: [Int]
            if let cached = servicePorts[instance.appId] {
                ports = cached
            } else {
                ports = MarathonJSON.servicePorts(self.state.apps[instance.appId])
                servicePorts[instance.appId] = ports
            }
            Self.writeTask(instance, servicePorts: ports, healthResults: self.healthResults[instance.id], to: &writer)
        }
        writer.raw("}")
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

        static let ordered = Self.allCases.sorted { MarathonJSONWriter.keyPrecedes($0.rawValue, $1.rawValue) }
    }

    /// Task's keys, in the order `.sortedKeys` puts them.
    enum TaskKey: String, CaseIterable {
        case appId, healthCheckResults, host, id, ipAddresses, localVolumes, ports, servicePorts, slaveId, stagedAt
        case startedAt, state, version

        static let ordered = Self.allCases.sorted { MarathonJSONWriter.keyPrecedes($0.rawValue, $1.rawValue) }
    }

    /// One AppInfo: the definition plus what `embed` asks for.
    func writeAppInfo(_ app: AppDefinition, embed: MarathonJSON.AppEmbed, to writer: inout MarathonJSONWriter) {
        // TaskCounts counts no terminal instance: only the task list and taskStats skip them.
        let instances = self.state.instances(ofApp: app.id)
        let counts = embed.contains(.counts) ? MarathonJSON.TaskCounts(instances) : nil
        let failure = embed.contains(.lastTaskFailure) ? self.state.lastTaskFailures[app.id] : nil
        writer.character("{")
        var first = true
        for key in AppInfoKey.ordered {
            let name = key.rawValue
            switch key {
            case .acceptedResourceRoles:
                guard let roles = app.acceptedResourceRoles else { continue }
                writer.field(name, first: &first)
                writer.strings(roles)
            case .args:
                writer.field(name, first: &first)
                if let args = app.args { writer.strings(args) } else { writer.raw("null") }
            case .backoffFactor:
                writer.field(name, first: &first)
                writer.encodedNumber(app.backoffFactor)
            case .backoffSeconds:
                writer.field(name, first: &first)
                writer.encodedNumber(app.backoffSeconds)
            case .cmd:
                writer.field(name, first: &first)
                writer.string(app.cmd)
            case .constraints:
                writer.field(name, first: &first)
                writer.array(app.constraints) { writer, constraint in writer.strings(constraint) }
            case .container:
                guard let container = app.container else { continue }
                writer.field(name, first: &first)
                writer.container(container)
            case .cpus:
                writer.field(name, first: &first)
                writer.encodedNumber(app.cpus)
            case .deployments:
                guard embed.contains(.deployments) else { continue }
                writer.field(name, first: &first)
                writer.array(self.deploymentsByApp[app.id] ?? []) { writer, deployment in
                    writer.raw("{\"id\":")
                    writer.string(deployment.id)
                    writer.raw("}")
                }
            case .disk:
                writer.field(name, first: &first)
                writer.encodedNumber(app.disk)
            case .env:
                writer.field(name, first: &first)
                writer.object(app.env)
            case .fetch:
                writer.field(name, first: &first)
                writer.array(app.fetch) { writer, fetch in writer.fetch(fetch) }
            case .gpus:
                writer.field(name, first: &first)
                writer.encodedNumber(app.gpus)
            case .healthChecks:
                writer.field(name, first: &first)
                writer.array(app.healthChecks) { writer, check in writer.healthCheck(check) }
            case .id:
                writer.field(name, first: &first)
                writer.string(app.id)
            case .instances:
                writer.field(name, first: &first)
                writer.number(app.instances)
            case .killSelection:
                writer.field(name, first: &first)
                writer.string(app.killSelection)
            case .labels:
                writer.field(name, first: &first)
                writer.object(app.labels)
            case .lastTaskFailure:
                guard let failure else { continue }
                writer.field(name, first: &first)
                writer.taskFailure(failure)
            case .maxLaunchDelaySeconds:
                writer.field(name, first: &first)
                writer.encodedNumber(app.maxLaunchDelaySeconds)
            case .mem:
                writer.field(name, first: &first)
                writer.encodedNumber(app.mem)
            case .networks:
                guard let networks = app.networks else { continue }
                writer.field(name, first: &first)
                writer.array(networks) { writer, network in
                    writer.raw("{\"mode\":")
                    writer.string(network.mode)
                    if let networkName = network.name {
                        writer.raw(",\"name\":")
                        writer.string(networkName)
                    }
                    writer.raw("}")
                }
            case .portDefinitions:
                writer.field(name, first: &first)
                writer.array(app.portDefinitions) { writer, definition in writer.portDefinition(definition) }
            case .ports:
                writer.field(name, first: &first)
                writer.array(app.portDefinitions) { writer, definition in writer.number(definition.port) }
            case .readinessCheckResults:
                guard embed.contains(.readiness) else { continue }
                writer.field(name, first: &first)
                writer.raw("[]")
            case .requirePorts:
                writer.field(name, first: &first)
                writer.bool(app.requirePorts)
            case .role:
                guard let role = app.role else { continue }
                writer.field(name, first: &first)
                writer.string(role)
            case .taskKillGracePeriodSeconds:
                guard let seconds = app.taskKillGracePeriodSeconds else { continue }
                writer.field(name, first: &first)
                writer.encodedNumber(seconds)
            case .tasks:
                guard embed.contains(.tasks) else { continue }
                writer.field(name, first: &first)
                let servicePorts = MarathonJSON.servicePorts(app)
                writer.array(instances.lazy.filter { !$0.state.isTerminal }) { writer, instance in
                    Self.writeTask(
                        instance, servicePorts: servicePorts, healthResults: self.healthResults[instance.id],
                        to: &writer)
                }
            case .tasksHealthy:
                guard let counts else { continue }
                writer.field(name, first: &first)
                writer.number(counts.healthy)
            case .tasksRunning:
                guard let counts else { continue }
                writer.field(name, first: &first)
                writer.number(counts.running)
            case .tasksStaged:
                guard let counts else { continue }
                writer.field(name, first: &first)
                writer.number(counts.staged)
            case .tasksUnhealthy:
                guard let counts else { continue }
                writer.field(name, first: &first)
                writer.number(counts.unhealthy)
            case .taskStats:
                guard embed.contains(.taskStats) else { continue }
                writer.field(name, first: &first)
                self.writeTaskStats(app, instances: instances.filter { !$0.state.isTerminal }, to: &writer)
            case .unreachableStrategy:
                writer.field(name, first: &first)
                writer.unreachableStrategy(app.unreachableStrategy)
            case .upgradeStrategy:
                writer.field(name, first: &first)
                writer.raw("{\"maximumOverCapacity\":")
                writer.encodedNumber(app.upgradeStrategy.maximumOverCapacity)
                writer.raw(",\"minimumHealthCapacity\":")
                writer.encodedNumber(app.upgradeStrategy.minimumHealthCapacity)
                writer.raw("}")
            case .uris:
                writer.field(name, first: &first)
                writer.array(app.fetch) { writer, fetch in writer.string(fetch.uri) }
            case .user:
                writer.field(name, first: &first)
                writer.string(app.user)
            case .version:
                guard let version = app.version else { continue }
                writer.field(name, first: &first)
                writer.string(version)
            case .versionInfo:
                guard let info = app.versionInfo else { continue }
                writer.field(name, first: &first)
                writer.raw("{\"lastConfigChangeAt\":")
                writer.string(info.lastConfigChangeAt)
                writer.raw(",\"lastScalingAt\":")
                writer.string(info.lastScalingAt)
                writer.raw("}")
            }
        }
        writer.character("}")
    }

    /// Marathon's `taskStats`, as ``MarathonJSON/taskStats(_:instances:now:)`` computes it.
    func writeTaskStats(_ app: AppDefinition, instances: [Instance], to writer: inout MarathonJSONWriter) {
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
        writer.character("{")
        var first = true
        for category in categories where !category.instances.isEmpty {
            writer.key(category.name, first: first)
            first = false
            let counts = MarathonJSON.TaskCounts(category.instances)
            writer.raw("{\"stats\":{\"counts\":{\"healthy\":")
            writer.number(counts.healthy)
            writer.raw(",\"running\":")
            writer.number(counts.running)
            writer.raw(",\"staged\":")
            writer.number(counts.staged)
            writer.raw(",\"unhealthy\":")
            writer.number(counts.unhealthy)
            writer.raw("}")
            let lifeTimes = category.instances.filter { $0.state == .running }
                .compactMap { $0.startedAt.flatMap(MarathonJSON.date) }
                .map { max(0, self.now.timeIntervalSince($0)) }
                .sorted()
            if !lifeTimes.isEmpty {
                let middle = lifeTimes.count / 2
                let median =
                    lifeTimes.count % 2 == 1 ? lifeTimes[middle] : (lifeTimes[middle - 1] + lifeTimes[middle]) / 2
                writer.raw(",\"lifeTime\":{\"averageSeconds\":")
                writer.number(lifeTimes.reduce(0, +) / Double(lifeTimes.count))
                writer.raw(",\"medianSeconds\":")
                writer.number(median)
                writer.raw("}")
            }
            writer.raw("}}")
        }
        writer.character("}")
    }

    // MARK: - Task

    /// Marathon's Task, as ``MarathonJSON/task(_:app:healthResults:)`` builds it.
    static func writeTask(
        _ instance: Instance, servicePorts: [Int], healthResults: [HealthCheckResult]?,
        to writer: inout MarathonJSONWriter
    ) {
        writer.character("{")
        var first = true
        for key in TaskKey.ordered {
            let name = key.rawValue
            switch key {
            case .appId:
                writer.field(name, first: &first)
                writer.string(instance.appId)
            case .healthCheckResults:
                writer.field(name, first: &first)
                if let healthResults, !healthResults.isEmpty {
                    writer.array(healthResults) { writer, result in writer.healthCheckResult(result) }
                } else if let healthy = instance.healthy {
                    writer.raw("[{\"alive\":")
                    writer.bool(healthy)
                    writer.raw(healthy ? ",\"consecutiveFailures\":0" : ",\"consecutiveFailures\":1")
                    writer.raw(",\"instanceId\":")
                    writer.string(instance.id)
                    writer.raw("}]")
                } else {
                    writer.raw("[]")
                }
            case .host:
                writer.field(name, first: &first)
                writer.string(instance.host ?? "")
            case .id:
                writer.field(name, first: &first)
                writer.string(instance.taskId.value)
            case .ipAddresses:
                writer.field(name, first: &first)
                if let host = instance.host, !host.isEmpty {
                    writer.raw("[{\"ipAddress\":")
                    writer.string(host)
                    writer.raw(",\"protocol\":\"IPv4\"}]")
                } else {
                    writer.raw("[]")
                }
            case .localVolumes:
                writer.field(name, first: &first)
                writer.raw("[]")
            case .ports:
                writer.field(name, first: &first)
                writer.numbers(instance.ports)
            case .servicePorts:
                writer.field(name, first: &first)
                writer.numbers(servicePorts)
            case .slaveId:
                writer.field(name, first: &first)
                writer.string(instance.agentId?.value ?? "")
            case .stagedAt:
                writer.field(name, first: &first)
                writer.string(instance.stagedAt)
            case .startedAt:
                guard let startedAt = instance.startedAt else { continue }
                writer.field(name, first: &first)
                writer.string(startedAt)
            case .state:
                writer.field(name, first: &first)
                writer.string(instance.state.rawValue)
            case .version:
                writer.field(name, first: &first)
                writer.string(instance.version)
            }
        }
        writer.character("}")
    }
}
