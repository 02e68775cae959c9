// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

extension DockerContainerRuntime {
    /// Where the sandbox is mounted inside every container, as with Mesos's Docker containerizer.
    public static let sandboxMountPoint = "/mnt/mesos/sandbox"

    /// The capabilities a Docker task keeps: Docker's default set without `NET_RAW` (raw sockets: spoofing, and
    /// the kernel bugs behind several container escapes), `MKNOD` (device nodes), `AUDIT_WRITE`, `SETFCAP` (file
    /// capabilities, used by user-namespace escapes), `SETPCAP` and `SYS_CHROOT`. What remains is what images that
    /// start as root and drop to a user need: changing owners and modes, switching user and group, signalling
    /// their own processes and binding ports below 1024.
    public static let defaultCapabilities = [
        "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID",
    ]

    /// The Docker name of an agent container: `regatta-<container id>`, with characters Docker does not allow in
    /// names replaced by `_`.
    public static func containerName(for container: ContainerID) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        return "regatta-" + String(container.value.map { allowed.contains($0) ? $0 : "_" })
    }

    /// The Docker settings of a task's `container.docker`, or why it cannot run in Docker.
    static func dockerInfo(of task: TaskInfo) throws -> DockerInfo {
        guard let container = task.container, container.type == .docker else {
            throw AgentError(
                .launchFailed,
                "Task '\(task.taskId)' is not a Docker task; the Docker runtime needs container.type DOCKER."
            )
        }
        guard let docker = container.docker, !docker.image.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw AgentError(
                .launchFailed,
                "Task '\(task.taskId)' has no Docker image; set container.docker.image."
            )
        }
        return docker
    }

    /// The container to create for a launch request.
    ///
    /// - Command: a shell command runs as `/bin/sh -c <value>` with the image's entrypoint cleared (as Mesos
    ///   does); otherwise `arguments` (or `[value]` when there are none) become `Cmd`, handed to the image's
    ///   entrypoint (Marathon's `args`); without a command the image's defaults run.
    /// - Environment: `HOST`, the command's variables, `env` parameters, then `MESOS_TASK_ID`,
    ///   `MESOS_SANDBOX` (the mount point), `MESOS_CONTAINER_NAME`, `MESOS_FRAMEWORK_ID` and `MESOS_AGENT_ID`.
    /// - Labels: the task's labels, `label` parameters, then the ``DockerLabel`` ones.
    /// - Host: the sandbox bind-mounted at ``sandboxMountPoint``, volumes (a relative host path inside the
    ///   sandbox, an absolute one resolved and allowed by the ``Configuration/containerPolicy``), the network (HOST
    ///   by default, as in Mesos), BRIDGE port mappings published on ``Configuration/portBindingHostIP``, `mem` as
    ///   the memory limit (swap disabled), `cpus` as CPU shares (plus a hard quota with
    ///   ``Configuration/enforceCPUQuota``).
    /// - Hardening: `no-new-privileges`, ``Configuration/pidsLimit`` processes, and only
    ///   ``defaultCapabilities`` (all capabilities dropped, these added back, then the task's `cap-drop` and, with
    ///   `--allow_privileged`, `cap-add`).
    /// - Parameters: every ``DockerParameter`` the policy accepts is set on its Docker Engine field.
    /// - Throws: `AgentError.launchFailed` for what the policy refuses (naming the flag that would allow it), USER
    ///   networking, port mappings without BRIDGE networking, or a malformed value.
    static func containerSpec(
        for request: ContainerLaunchRequest,
        configuration: Configuration,
        resolve: (String) -> String = HostPath.resolve
    ) throws -> DockerContainerSpec {
        let task = request.task
        let docker = try Self.dockerInfo(of: task)
        let taskName = "Task '\(task.taskId)'"
        let policy = configuration.containerPolicy
        func refused(_ violation: ContainerPolicyViolation) -> AgentError {
            AgentError(.launchFailed, "\(taskName) is refused: \(violation)")
        }
        if let violation = policy.checkPrivileged(docker.privileged) { throw refused(violation) }
        let name = Self.containerName(for: request.containerID)
        var spec = DockerContainerSpec(image: docker.image)
        spec.tty = false
        // The task's user (`CommandInfo.user`, with --switch_user), resolved in the image; a `user` parameter (the
        // agent refuses a different one) says the same.
        spec.user = request.containerUser
        var host = DockerContainerSpec.HostConfig()
        if docker.privileged == true { host.privileged = true }

        // Parameters.
        var parameterEnvironment: [(String, String)] = []
        var parameterLabels: [(String, String)] = []
        var capabilitiesDropped: [String] = []
        var capabilitiesAdded: [String] = []
        var securityOptions: [String] = []
        var network = docker.network ?? .host
        for raw in docker.parameters ?? [] {
            let parameter: DockerParameter
            do {
                parameter = try policy.dockerParameter(key: raw.key, value: raw.value)
            } catch {
                throw refused(error)
            }
            switch parameter.option {
            case .addHost(let entry): host.extraHosts = (host.extraHosts ?? []) + [entry]
            case .dns(let address): host.dns = (host.dns ?? []) + [address]
            case .dnsSearch(let domain): host.dnsSearch = (host.dnsSearch ?? []) + [domain]
            case .dnsOption(let option): host.dnsOptions = (host.dnsOptions ?? []) + [option]
            case .env(let key, let value): parameterEnvironment.append((key, value))
            case .hostname(let hostname): spec.hostname = hostname
            case .label(let key, let value): parameterLabels.append((key, value))
            case .logDriver(let driver):
                host.logConfig = DockerContainerSpec.LogConfig(type: driver, config: host.logConfig?.config ?? [:])
            case .logOption(let key, let value):
                // Without log-driver the type stays empty: the options are for the daemon's default driver.
                var config = host.logConfig ?? DockerContainerSpec.LogConfig(type: "", config: [:])
                config.config[key] = value
                host.logConfig = config
            case .ulimit(let limit, let soft, let hard):
                host.ulimits =
                    (host.ulimits ?? []).filter { $0.name != limit }
                    + [DockerContainerSpec.Ulimit(name: limit, soft: soft, hard: hard)]
            case .user(let user): spec.user = user
            case .workdir(let directory): spec.workingDir = directory
            case .capDrop(let capability): capabilitiesDropped.append(capability)
            case .groupAdd(let group): host.groupAdd = (host.groupAdd ?? []) + [group]
            case .initProcess(let enabled): host.initProcess = enabled
            case .readOnly(let enabled): host.readonlyRootfs = enabled
            case .shmSize(let bytes): host.shmSize = bytes
            case .tmpfs(let path, let options): host.tmpfs = (host.tmpfs ?? [:]).merging([path: options]) { $1 }
            case .network(let mode):
                network = mode == "host" ? .host : mode == "none" ? DockerInfo.Network.none : .bridge
            case .privileged(let enabled): if enabled { host.privileged = true }
            case .capAdd(let capability): capabilitiesAdded.append(capability)
            case .device(let hostPath, let containerPath, let permissions):
                host.devices =
                    (host.devices ?? []) + [
                        DockerContainerSpec.Device(
                            pathOnHost: hostPath,
                            pathInContainer: containerPath,
                            cgroupPermissions: permissions
                        )
                    ]
            case .deviceCgroupRule(let rule): host.deviceCgroupRules = (host.deviceCgroupRules ?? []) + [rule]
            case .volume(let bind): host.binds = (host.binds ?? []) + [bind]
            case .mount(let type, let source, let target, let readOnly):
                host.mounts =
                    (host.mounts ?? []) + [
                        DockerContainerSpec.Mount(type: type, source: source, target: target, readOnly: readOnly)
                    ]
            case .volumesFrom(let container): host.volumesFrom = (host.volumesFrom ?? []) + [container]
            case .pid(let mode): host.pidMode = mode
            case .ipc(let mode): host.ipcMode = mode
            case .uts(let mode): host.utsMode = mode
            case .userns(let mode): host.usernsMode = mode
            case .cgroupns(let mode): host.cgroupnsMode = mode
            case .cgroupParent(let parent): host.cgroupParent = parent
            case .securityOpt(let option): securityOptions.append(option)
            }
        }
        if spec.hostname == nil, let hostname = task.container?.hostname, !hostname.isEmpty {
            spec.hostname = hostname
        }

        // Hardening: no privilege gain through setuid binaries, a bounded process count, a reduced capability set.
        // The task's own security options come after no-new-privileges, so with --allow_privileged a task may
        // turn it off explicitly.
        host.securityOpt = ["no-new-privileges"] + securityOptions
        host.pidsLimit = configuration.pidsLimit > 0 ? configuration.pidsLimit : nil
        let dropped = Set(capabilitiesDropped)
        host.capDrop = ["ALL"]
        host.capAdd =
            (dropped.contains("ALL") ? [] : Self.defaultCapabilities.filter { !dropped.contains($0) })
            + capabilitiesAdded.filter { !Self.defaultCapabilities.contains($0) }

        // Command.
        if let command = task.command {
            if command.isShell {
                if let value = command.value, !value.trimmingCharacters(in: .whitespaces).isEmpty {
                    spec.entrypoint = []
                    spec.cmd = ["/bin/sh", "-c", value]
                }
            } else if let arguments = command.arguments, !arguments.isEmpty {
                spec.cmd = arguments
            } else if let value = command.value, !value.isEmpty {
                spec.cmd = [value]
            }
        }

        // Environment.
        var environment: [String: String] = ["HOST": request.hostname]
        for (key, value) in task.command?.environment?.dictionary ?? [:] {
            environment[key] = value
        }
        for (key, value) in parameterEnvironment {
            environment[key] = value
        }
        environment["MESOS_TASK_ID"] = task.taskId.value
        environment["MESOS_SANDBOX"] = Self.sandboxMountPoint
        environment["MESOS_CONTAINER_NAME"] = name
        environment["MESOS_FRAMEWORK_ID"] = request.frameworkID.value
        environment["MESOS_AGENT_ID"] = request.agentID.value
        spec.env = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }

        // Labels.
        var labels: [String: String] = [:]
        for label in task.labels?.labels ?? [] {
            labels[label.key] = label.value ?? ""
        }
        for (key, value) in parameterLabels {
            labels[key] = value
        }
        labels[DockerLabel.taskID] = task.taskId.value
        labels[DockerLabel.frameworkID] = request.frameworkID.value
        labels[DockerLabel.agentID] = request.agentID.value
        labels[DockerLabel.containerID] = request.containerID.value
        labels[DockerLabel.sandbox] = request.sandbox
        spec.labels = labels

        // Host: mounts, network, ports, limits.
        var binds = ["\(request.sandbox):\(Self.sandboxMountPoint)"]
        for volume in task.container?.volumes ?? [] {
            do {
                binds.append(
                    try Self.bind(
                        for: volume,
                        sandbox: request.sandbox,
                        policy: policy,
                        taskName: taskName,
                        resolve: resolve
                    )
                )
            } catch let violation as ContainerPolicyViolation {
                throw refused(violation)
            }
        }
        host.binds = binds + (host.binds ?? [])
        switch network {
        case .host: host.networkMode = "host"
        case .bridge: host.networkMode = "bridge"
        case .none: host.networkMode = "none"
        case .user:
            throw AgentError(
                .launchFailed,
                "\(taskName) asks for USER networking, which Regatta agents do not support; use BRIDGE or HOST."
            )
        }
        let mappings = docker.portMappings ?? []
        if !mappings.isEmpty {
            guard network == .bridge else {
                throw AgentError(
                    .launchFailed,
                    "\(taskName) has port mappings with \(network.rawValue) networking; port mappings need "
                        + "BRIDGE networking (with HOST networking the task binds its ports directly)."
                )
            }
            var exposed: [String: DockerEmptyObject] = [:]
            var bindings: [String: [DockerContainerSpec.PortBinding]] = [:]
            for mapping in mappings {
                guard mapping.containerPort > 0, mapping.containerPort <= 65535, mapping.hostPort <= 65535 else {
                    throw AgentError(
                        .launchFailed,
                        "\(taskName) maps container port \(mapping.containerPort) to host port \(mapping.hostPort); "
                            + "ports must be between 1 and 65535."
                    )
                }
                for transport in try Self.protocols(of: mapping, taskName: taskName) {
                    let key = "\(mapping.containerPort)/\(transport)"
                    exposed[key] = DockerEmptyObject()
                    bindings[key, default: []].append(
                        DockerContainerSpec.PortBinding(
                            hostIp: configuration.portBindingHostIP,
                            hostPort: mapping.hostPort == 0 ? "" : String(mapping.hostPort)
                        )
                    )
                }
            }
            spec.exposedPorts = exposed
            host.portBindings = bindings
        }
        let memory = task.resources.scalar("mem").value
        if memory > 0 {
            let bytes = Int64(saturating: memory * 1024 * 1024)
            host.memory = bytes
            host.memorySwap = bytes
        }
        let cpus = task.resources.scalar("cpus").value
        if cpus > 0 {
            host.cpuShares = max(2, Int64(saturating: cpus * 1024))
            if configuration.enforceCPUQuota {
                host.nanoCpus = max(10_000_000, Int64(saturating: cpus * 1e9))
            }
        }
        spec.hostConfig = host
        return spec
    }

    /// `key=value` split at the first `=`; `nil` without one.
    private static func split(_ text: String) -> (String, String)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    /// The transport protocols of a port mapping: `tcp` by default, or a comma-separated list such as `udp,tcp`.
    private static func protocols(of mapping: DockerInfo.PortMapping, taskName: String) throws -> [String] {
        let names = (mapping.protocol ?? "tcp").lowercased().split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        for name in names where !["tcp", "udp", "sctp"].contains(name) {
            throw AgentError(
                .launchFailed,
                "\(taskName) maps container port \(mapping.containerPort) with protocol '\(name)'; use tcp, udp or "
                    + "sctp."
            )
        }
        return names.isEmpty ? ["tcp"] : names
    }

    /// A bind mount `host:container:rw|ro` for a volume, with its host path resolved: a relative host path must
    /// stay inside the sandbox, an absolute one must be allowed by `policy` (before and after resolving symlinks).
    ///
    /// - Throws: ``ContainerPolicyViolation`` for a path the policy refuses; `AgentError.launchFailed` for a
    ///   volume without a host path.
    static func bind(
        for volume: ContainerInfo.Volume,
        sandbox: String,
        policy: ContainerPolicy,
        taskName: String,
        resolve: (String) -> String
    ) throws -> String {
        guard let hostPath = volume.hostPath, !hostPath.isEmpty, !volume.containerPath.isEmpty else {
            throw AgentError(
                .launchFailed,
                "\(taskName) has a volume at '\(volume.containerPath)' without a host path; Docker tasks on Regatta "
                    + "support host-path volumes only."
            )
        }
        if let violation = policy.checkHostPath(hostPath) { throw violation }
        let source: String
        if hostPath.hasPrefix("/") {
            source = resolve(hostPath)
            let resolvedPolicy = HostPath.resolvingAllowedPaths(of: policy, with: resolve)
            if let violation = resolvedPolicy.checkResolvedHostPath(source) { throw violation }
        } else {
            let root = resolve(sandbox)
            source = resolve("\(sandbox)/\(hostPath)")
            guard ContainerPolicy.isInside(source, root: root) else {
                throw ContainerPolicyViolation(
                    "volume host path '\(hostPath)' leads outside the sandbox (to '\(source)'); give a path inside it"
                )
            }
        }
        let mode = (volume.mode ?? "RW").uppercased() == "RO" ? "ro" : "rw"
        return "\(source):\(volume.containerPath):\(mode)"
    }
}
