// SPDX-License-Identifier: Apache-2.0

/// How a Docker container ended, with Docker's details beyond `ContainerTermination`.
public struct DockerContainerExit: Sendable, Hashable {
    /// The exit as the `ContainerRuntime` protocol reports it: Docker's exit code (`128 + n` after signal `n`,
    /// so `137` after an OOM kill), whether ``ContainerRuntime/kill(_:gracePeriod:)`` was called, and the memory
    /// limitation when ``limitationReason`` is set.
    public var termination: ContainerTermination
    /// Whether the kernel's OOM killer killed a process of the container (Docker's `State.OOMKilled`).
    public var oomKilled: Bool
    /// The container's memory limit in bytes, if it had one.
    public var memoryLimit: Int64?
    /// Docker's `State.Error`, when Docker itself failed to run the container.
    public var engineError: String?

    /// Describes how a container ended.
    public init(
        termination: ContainerTermination,
        oomKilled: Bool,
        memoryLimit: Int64? = nil,
        engineError: String? = nil
    ) {
        self.termination = termination
        self.oomKilled = oomKilled
        self.memoryLimit = memoryLimit
        self.engineError = engineError
    }

    /// The Mesos `TaskStatus.reason` when a memory limit ended the container: `REASON_CONTAINER_LIMITATION_MEMORY`
    /// after an OOM kill that the main process did not survive and the agent did not ask for; else `nil`.
    public var limitationReason: String? {
        guard self.oomKilled, !self.termination.killed, self.termination.status != .exited(code: 0) else {
            return nil
        }
        return ContainerLimitation.memoryReason
    }

    /// The status message for a memory limitation, as Mesos words it; `nil` for other exits.
    public var limitationMessage: String? {
        guard self.limitationReason != nil else { return nil }
        let requested = self.memoryLimit.map { " Requested: \($0 / (1024 * 1024))MB." } ?? ""
        return "Memory limit exceeded:\(requested) The container was OOM-killed."
    }

    /// ``termination`` with its `limitation` set when ``limitationReason`` is.
    var reported: ContainerTermination {
        var termination = self.termination
        if termination.limitation == nil, let reason = self.limitationReason, let message = self.limitationMessage {
            termination.limitation = ContainerLimitation(reason: reason, message: message)
        }
        return termination
    }
}
