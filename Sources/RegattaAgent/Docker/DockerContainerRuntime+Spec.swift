// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

extension DockerContainerRuntime {
    /// Where the sandbox is mounted inside every container, as with Mesos's Docker containerizer.
    public static let sandboxMountPoint = "/mnt/mesos/sandbox"

    /// The `docker.parameters` keys a task may set; anything else is refused.
    public static let allowedParameters: Set<String> = ["env", "hostname", "label", "user", "workdir"]

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
                "Task '\(task.taskId)' is not a Docker task; the Docker runtime needs container.type DOCKER.")
        }
        guard let docker = container.docker, !docker.image.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw AgentError(
                .launchFailed, "Task '\(task.taskId)' has no Docker image; set container.docker.image.")
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
    /// - Host: the sandbox bind-mounted at ``sandboxMountPoint``, volumes with a host path, the network (HOST by
    ///   default, as in Mesos), BRIDGE port mappings published on ``Configuration/portBindingHostIP``, `mem` as
    ///   the memory limit (swap disabled), `cpus` as CPU shares (plus a hard quota with
    ///   ``Configuration/enforceCPUQuota``).
    /// - Throws: `AgentError.launchFailed` for a privileged container, a parameter outside
    ///   ``allowedParameters``, USER networking, port mappings without BRIDGE networking, or a malformed value.
    static func containerSpec(
        for request: ContainerLaunchRequest, configuration: Configuration
    ) throws -> DockerContainerSpec {
        let task = request.task
        let docker = try Self.dockerInfo(of: task)
        let taskName = "Task '\(task.taskId)'"
        if docker.privileged == true {
            throw AgentError(
                .launchFailed,
                "\(taskName) asks for a privileged Docker container, which Regatta agents refuse; remove "
                    + "container.docker.privileged.")
        }
        let name = Self.containerName(for: request.containerID)
        var spec = DockerContainerSpec(image: docker.image)
        spec.tty = false

        // Parameters.
        var parameterEnvironment: [(String, String)] = []
        var parameterLabels: [(String, String)] = []
        for parameter in docker.parameters ?? [] {
            switch parameter.key {
            case "env":
                guard let (key, value) = Self.split(parameter.value), !key.isEmpty else {
                    throw AgentError(
                        .launchFailed,
                        "\(taskName) has the Docker parameter env='\(parameter.value)'; write it as NAME=value.")
                }
                parameterEnvironment.append((key, value))
            case "label":
                let (key, value) = Self.split(parameter.value) ?? (parameter.value, "")
                guard !key.isEmpty else {
                    throw AgentError(
                        .launchFailed,
                        "\(taskName) has the Docker parameter label='\(parameter.value)'; write it as key=value.")
                }
                parameterLabels.append((key, value))
            case "workdir": spec.workingDir = parameter.value
            case "user": spec.user = parameter.value
            case "hostname": spec.hostname = parameter.value
            default:
                let allowed = Self.allowedParameters.sorted().joined(separator: ", ")
                throw AgentError(
                    .launchFailed,
                    "\(taskName) has the Docker parameter '\(parameter.key)', which this agent does not allow; "
                        + "allowed parameters: \(allowed).")
            }
        }
        if spec.hostname == nil, let hostname = task.container?.hostname, !hostname.isEmpty {
            spec.hostname = hostname
        }

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
        var host = DockerContainerSpec.HostConfig()
        host.binds = ["\(request.sandbox):\(Self.sandboxMountPoint)"]
        for volume in task.container?.volumes ?? [] {
            host.binds?.append(try Self.bind(for: volume, sandbox: request.sandbox, taskName: taskName))
        }
        let network = docker.network ?? .host
        switch network {
        case .host: host.networkMode = "host"
        case .bridge: host.networkMode = "bridge"
        case .none: host.networkMode = "none"
        case .user:
            throw AgentError(
                .launchFailed,
                "\(taskName) asks for USER networking, which Regatta agents do not support; use BRIDGE or HOST.")
        }
        let mappings = docker.portMappings ?? []
        if !mappings.isEmpty {
            guard network == .bridge else {
                throw AgentError(
                    .launchFailed,
                    "\(taskName) has port mappings with \(network.rawValue) networking; port mappings need "
                        + "BRIDGE networking (with HOST networking the task binds its ports directly).")
            }
            var exposed: [String: DockerEmptyObject] = [:]
            var bindings: [String: [DockerContainerSpec.PortBinding]] = [:]
            for mapping in mappings {
                guard mapping.containerPort > 0, mapping.containerPort <= 65535, mapping.hostPort <= 65535 else {
                    throw AgentError(
                        .launchFailed,
                        "\(taskName) maps container port \(mapping.containerPort) to host port \(mapping.hostPort); "
                            + "ports must be between 1 and 65535.")
                }
                for transport in try Self.protocols(of: mapping, taskName: taskName) {
                    let key = "\(mapping.containerPort)/\(transport)"
                    exposed[key] = DockerEmptyObject()
                    bindings[key, default: []].append(
                        DockerContainerSpec.PortBinding(
                            hostIp: configuration.portBindingHostIP,
                            hostPort: mapping.hostPort == 0 ? "" : String(mapping.hostPort)))
                }
            }
            spec.exposedPorts = exposed
            host.portBindings = bindings
        }
        let memory = task.resources.scalar("mem").value
        if memory > 0 {
            let bytes = Int64(memory * 1024 * 1024)
            host.memory = bytes
            host.memorySwap = bytes
        }
        let cpus = task.resources.scalar("cpus").value
        if cpus > 0 {
            host.cpuShares = max(2, Int64(cpus * 1024))
            if configuration.enforceCPUQuota {
                host.nanoCpus = max(10_000_000, Int64(cpus * 1e9))
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
                    + "sctp.")
        }
        return names.isEmpty ? ["tcp"] : names
    }

    /// A bind mount `host:container:rw|ro` for a volume; a relative host path is inside the sandbox.
    private static func bind(for volume: ContainerInfo.Volume, sandbox: String, taskName: String) throws -> String {
        guard let hostPath = volume.hostPath, !hostPath.isEmpty, !volume.containerPath.isEmpty else {
            throw AgentError(
                .launchFailed,
                "\(taskName) has a volume at '\(volume.containerPath)' without a host path; Docker tasks on Regatta "
                    + "support host-path volumes only.")
        }
        let source = hostPath.hasPrefix("/") ? hostPath : "\(sandbox)/\(hostPath)"
        let mode = (volume.mode ?? "RW").uppercased() == "RO" ? "ro" : "rw"
        return "\(source):\(volume.containerPath):\(mode)"
    }
}
