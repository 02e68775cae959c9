// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

/// Wires a ``DockerContainerRuntime`` into the agent: recovery from the agent's checkpoints, and OOM kills reported
/// as memory limitations.
final class RecoverableDockerRuntime: RecoverableContainerRuntime {
    let docker: DockerContainerRuntime

    init(_ docker: DockerContainerRuntime) {
        self.docker = docker
    }

    /// Makes the Docker runtime when a Docker Engine answers on `socketPath`, else `nil`.
    static func makeIfReachable(
        socketPath: String,
        containerPolicy: ContainerPolicy,
        pidsLimit: Int64,
        logger: Logger
    ) async -> RecoverableDockerRuntime? {
        guard await DockerContainerRuntime.probe(socketPath: socketPath, logger: logger) else { return nil }
        var configuration = DockerContainerRuntime.Configuration()
        configuration.engine.socketPath = socketPath
        configuration.containerPolicy = containerPolicy
        configuration.pidsLimit = pidsLimit
        return RecoverableDockerRuntime(DockerContainerRuntime(configuration: configuration, logger: logger))
    }

    var supportedContainerTypes: Set<ContainerInfo.ContainerType> { self.docker.supportedContainerTypes }

    func run() async throws {
        try await self.docker.run()
    }

    func launch(_ request: ContainerLaunchRequest) async throws -> LaunchedContainer {
        try await self.docker.launch(request)
    }

    func wait(for container: ContainerID) async throws -> ContainerTermination {
        let exit = try await self.docker.waitForExit(container)
        var termination = exit.termination
        if termination.limitation == nil, let reason = exit.limitationReason {
            termination.limitation = ContainerLimitation(
                reason: reason,
                message: exit.limitationMessage ?? "Memory limit exceeded"
            )
        }
        return termination
    }

    func kill(_ container: ContainerID, gracePeriod: Duration) async throws {
        try await self.docker.kill(container, gracePeriod: gracePeriod)
    }

    func runCommand(
        _ command: String,
        environment: [String: String],
        in container: ContainerID,
        timeout: Duration
    ) async -> ContainerTermination.Status? {
        await self.docker.runCommand(command, environment: environment, in: container, timeout: timeout)
    }

    /// Finds the checkpointed containers among those Docker still has (running or exited) and follows only those.
    ///
    /// Agents on one host share the Docker Engine, so the engine also lists other agents' containers; adopting
    /// only this agent's checkpointed ones keeps their output from being copied into two sandboxes. The agent id is
    /// not used as the filter: an agent that re-registers under a new id still owns its checkpointed containers.
    func recover(_ containers: [ContainerCheckpoint]) async throws -> Set<ContainerID> {
        let wanted = Set(containers.filter { $0.type == .docker }.map(\.containerID))
        guard !wanted.isEmpty else { return [] }
        let recovered = try await self.docker.recover(agentID: nil, adopting: wanted)
        return Set(recovered.map(\.containerID)).intersection(wanted)
    }
}
