// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Builds Mesos `TaskInfo`s for app instances: resources from the offer, ports, environment, container.
public enum TaskFactory {
    /// How many host ports an app needs and which fixed ones: Docker BRIDGE/USER port mappings, else port definitions.
    static func portNeeds(_ app: AppDefinition) -> [Int] {
        let network = app.container?.docker?.network?.uppercased()
        if network == "BRIDGE" || network == "USER" {
            return app.container?.effectivePortMappings.map { $0.hostPort ?? 0 } ?? []
        }
        return app.portDefinitions.map { app.requirePorts ? $0.port : 0 }
    }

    /// Picks host ports for one instance from the offered ranges: fixed ports must be offered, `0` takes the
    /// lowest free offered port. Returns `nil` when the offer lacks them.
    public static func hostPorts(for app: AppDefinition, available: RangeSet) -> [Int]? {
        let needs = self.portNeeds(app)
        if needs.isEmpty { return [] }
        var free = available
        var result: [Int] = []
        for need in needs where need != 0 {
            guard free.contains(UInt64(need)) else { return nil }
            free = free.subtracting(RangeSet(values: [UInt64(need)]))
        }
        let dynamic = free.first(needs.filter { $0 == 0 }.count)
        guard dynamic.count == needs.filter({ $0 == 0 }).count else { return nil }
        var dynamicIterator = dynamic.makeIterator()
        for need in needs {
            result.append(need != 0 ? need : Int(dynamicIterator.next()!))
        }
        return result
    }

    /// Marathon's task name for an app: path segments reversed and joined by dots (`/prod/web` → `web.prod`).
    public static func taskName(_ appId: String) -> String {
        appId.split(separator: "/").reversed().joined(separator: ".")
    }

    /// The environment Marathon gives a task (PORT0…, PORTS, PORT_NAME, HOST, MARATHON_APP_*), plus the app's `env`.
    public static func environment(
        app: AppDefinition,
        taskID: TaskID,
        host: String,
        hostPorts: [Int]
    ) -> [String: String] {
        var env = app.env
        for (index, port) in hostPorts.enumerated() {
            env["PORT\(index)"] = String(port)
        }
        if let first = hostPorts.first { env["PORT"] = String(first) }
        env["PORTS"] = hostPorts.map(String.init).joined(separator: ",")
        let network = app.container?.docker?.network?.uppercased()
        if network == "BRIDGE" || network == "USER" {
            for (index, mapping) in (app.container?.effectivePortMappings ?? []).enumerated()
            where index < hostPorts.count {
                if let name = mapping.name {
                    env["PORT_\(name.uppercased().replacingOccurrences(of: "-", with: "_"))"] = String(hostPorts[index])
                }
                let containerPort = (mapping.containerPort ?? 0) == 0 ? hostPorts[index] : mapping.containerPort!
                env["PORT_\(containerPort)"] = String(hostPorts[index])
            }
        } else {
            for (index, definition) in app.portDefinitions.enumerated() where index < hostPorts.count {
                if let name = definition.name {
                    env["PORT_\(name.uppercased().replacingOccurrences(of: "-", with: "_"))"] = String(hostPorts[index])
                }
            }
        }
        env["HOST"] = host
        env["MARATHON_APP_ID"] = app.id
        env["MARATHON_APP_VERSION"] = app.version ?? ""
        env["MARATHON_APP_RESOURCE_CPUS"] = Scalar(app.cpus).description
        env["MARATHON_APP_RESOURCE_MEM"] = Scalar(app.mem).description
        env["MARATHON_APP_RESOURCE_DISK"] = Scalar(app.disk).description
        env["MESOS_TASK_ID"] = taskID.value
        return env
    }

    /// Takes `amount` of a scalar from the offer's entries (reserved before unreserved).
    private static func take(_ name: String, _ amount: Double, from offered: Resources, role: String) -> [Resource] {
        var needed = Scalar(amount)
        var taken: [Resource] = []
        let entries = offered.list.filter { $0.name == name }.sorted {
            ($0.role == "*" ? 1 : 0) < ($1.role == "*" ? 1 : 0)
        }
        for entry in entries where needed.milli > 0 {
            guard case .scalar(let available) = entry.value, available.milli > 0 else { continue }
            let portion = min(available, needed)
            taken.append(Resource(name: name, value: .scalar(portion), role: entry.role, allocationRole: role))
            needed -= portion
        }
        return taken
    }

    /// The app's agent-run check (`MESOS_HTTP`, `MESOS_HTTPS`, `MESOS_TCP`, `COMMAND`) as Mesos's `HealthCheck`;
    /// Marathon allows at most one. HTTP, HTTPS and TCP checks are run by the scheduler instead.
    static func agentHealthCheck(app: AppDefinition, hostPorts: [Int]) -> HealthCheck? {
        guard
            let check = app.healthChecks.first(where: {
                ["MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP", "COMMAND"].contains($0.protocol.uppercased())
            })
        else { return nil }
        let port = check.port ?? check.portIndex.flatMap { hostPorts.indices.contains($0) ? hostPorts[$0] : nil } ?? 0
        var result: HealthCheck
        switch check.protocol.uppercased() {
        case "COMMAND":
            result = HealthCheck(type: .command, command: .shell(check.command?.value ?? "true"))
        case "MESOS_TCP":
            result = HealthCheck(type: .tcp, tcp: .init(port: UInt32(port)))
        default:
            result = HealthCheck(
                type: .http,
                http: .init(
                    scheme: check.protocol.uppercased() == "MESOS_HTTPS" ? "https" : "http",
                    port: UInt32(port),
                    path: check.path ?? "/"
                )
            )
        }
        result.delaySeconds = check.delaySeconds
        result.intervalSeconds = check.intervalSeconds
        result.timeoutSeconds = check.timeoutSeconds
        // For Mesos checks Marathon's maxConsecutiveFailures 0 means "kill on the first failure".
        result.consecutiveFailures = UInt32(clamping: max(1, check.maxConsecutiveFailures))
        result.gracePeriodSeconds = check.gracePeriodSeconds
        return result
    }

    /// Builds the TaskInfo for one instance.
    ///
    /// - Parameter resources: what is left of the offer (the task takes its share from it).
    public static func makeTask(
        app: AppDefinition,
        taskID: TaskID,
        offer: Offer,
        hostPorts: [Int],
        role: String,
        resources: Resources
    ) -> TaskInfo {
        var list: [Resource] = []
        list += self.take("cpus", app.cpus, from: resources, role: role)
        list += self.take("mem", app.mem, from: resources, role: role)
        if app.disk > 0 { list += self.take("disk", app.disk, from: resources, role: role) }
        if app.gpus > 0 { list += self.take("gpus", app.gpus, from: resources, role: role) }
        if !hostPorts.isEmpty {
            // Each port is taken from the role whose range holds it (reserved first), so ports that span a reserved
            // and the unreserved range become one resource per role (found by the app fuzzer: labelling them all
            // with one role asked for more than the offer held, and the master refused every launch).
            let portEntries = resources.list.filter { $0.name == "ports" }
                .sorted { ($0.role == "*" ? 1 : 0) < ($1.role == "*" ? 1 : 0) }
            var byRole: [String: [UInt64]] = [:]
            for port in hostPorts {
                let value = UInt64(port)
                let owner =
                    portEntries.first { entry in
                        if case .ranges(let ranges) = entry.value { return ranges.contains(value) }
                        return false
                    }?.role ?? "*"
                byRole[owner, default: []].append(value)
            }
            for (portRole, ports) in byRole.sorted(by: { $0.key < $1.key }) {
                list.append(
                    Resource(
                        name: "ports",
                        value: .ranges(RangeSet(values: ports)),
                        role: portRole,
                        allocationRole: role
                    )
                )
            }
        }
        let bag = (try? Resources(list)) ?? Resources()
        let env = self.environment(app: app, taskID: taskID, host: offer.hostname, hostPorts: hostPorts)
        var command: CommandInfo
        if let cmd = app.cmd {
            command = CommandInfo(shell: true, value: cmd, environment: Environment(env))
        } else if let args = app.args, !args.isEmpty {
            command = CommandInfo(shell: false, value: args[0], arguments: args, environment: Environment(env))
        } else {
            command = CommandInfo(shell: false, environment: Environment(env))
        }
        command.user = app.user
        if !app.fetch.isEmpty {
            command.uris = app.fetch.map { CommandURI(value: $0.uri, executable: $0.executable, extract: $0.extract) }
        }
        var task = TaskInfo(
            name: self.taskName(app.id),
            taskId: taskID,
            agentId: offer.agentId,
            resources: bag,
            command: command
        )
        // TaskInfo's resources must keep the allocation role; `Resources` drops it, so set the list explicitly.
        task.resources = bag
        if let docker = app.container?.docker, (app.container?.type ?? "DOCKER").uppercased() == "DOCKER" {
            let network = DockerInfo.Network(rawValue: docker.network?.uppercased() ?? "HOST") ?? .host
            var mappings: [DockerInfo.PortMapping] = []
            if network == .bridge || network == .user {
                for (index, mapping) in (app.container?.effectivePortMappings ?? []).enumerated()
                where index < hostPorts.count {
                    let hostPort = hostPorts[index]
                    let containerPort = (mapping.containerPort ?? 0) == 0 ? hostPort : mapping.containerPort!
                    mappings.append(
                        DockerInfo.PortMapping(
                            hostPort: UInt32(hostPort),
                            containerPort: UInt32(containerPort),
                            protocol: mapping.protocol ?? "tcp"
                        )
                    )
                }
            }
            task.container = ContainerInfo(
                type: .docker,
                docker: DockerInfo(
                    image: docker.image,
                    network: network,
                    portMappings: mappings.isEmpty ? nil : mappings,
                    privileged: docker.privileged,
                    parameters: docker.parameters?.map { .init(key: $0.key, value: $0.value) },
                    forcePullImage: docker.forcePullImage
                )
            )
            // Host-path volumes (checked against the container policy by the validator and again by the agent).
            let volumes = (app.container?.volumes ?? []).compactMap { volume in
                volume.hostPath.map {
                    ContainerInfo.Volume(containerPath: volume.containerPath, hostPath: $0, mode: volume.mode ?? "RW")
                }
            }
            if !volumes.isEmpty { task.container?.volumes = volumes }
        }
        if let grace = app.taskKillGracePeriodSeconds {
            task.killPolicy = KillPolicy(gracePeriod: DurationInfo(seconds: grace))
        }
        if !app.labels.isEmpty { task.labels = Labels(app.labels) }
        task.healthCheck = self.agentHealthCheck(app: app, hostPorts: hostPorts)
        return task
    }
}
