// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Synchronization

/// Runs each task on the runtime for its container type (Mesos's composing containerizer): command tasks on the
/// process runtime, Docker tasks on the Docker runtime.
///
/// The first runtime listed for a type takes its tasks. ``ContainerRuntime/wait(for:)`` and
/// ``ContainerRuntime/kill(_:gracePeriod:)`` go to the runtime that launched or recovered the container.
public final class CompositeContainerRuntime: RecoverableContainerRuntime {
    private let runtimes: [any ContainerRuntime]
    private let owners = Mutex<[ContainerID: Int]>([:])

    /// Composes `runtimes`; each keeps the container types it supports.
    public init(_ runtimes: [any ContainerRuntime]) {
        self.runtimes = runtimes
    }

    /// Every type some runtime supports.
    public var supportedContainerTypes: Set<ContainerInfo.ContainerType> {
        self.runtimes.reduce(into: Set()) { $0.formUnion($1.supportedContainerTypes) }
    }

    /// Runs every runtime's background work; returns (or throws) as soon as one of them does.
    public func run() async throws {
        guard !self.runtimes.isEmpty else {
            // Nothing to run, but returning would look like a runtime that stopped.
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for runtime in self.runtimes {
                group.addTask { try await runtime.run() }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    public func launch(_ request: ContainerLaunchRequest) async throws -> LaunchedContainer {
        let type = request.task.container?.type ?? .mesos
        guard let index = self.index(for: type) else {
            throw AgentError(.launchFailed, "No container runtime of this agent runs \(type.rawValue) containers.")
        }
        self.owners.withLock { $0[request.containerID] = index }
        do {
            return try await self.runtimes[index].launch(request)
        } catch {
            _ = self.owners.withLock { $0.removeValue(forKey: request.containerID) }
            throw error
        }
    }

    public func wait(for container: ContainerID) async throws -> ContainerTermination {
        let termination = try await self.runtime(of: container).wait(for: container)
        _ = self.owners.withLock { $0.removeValue(forKey: container) }
        return termination
    }

    public func kill(_ container: ContainerID, gracePeriod: Duration) async throws {
        try await self.runtime(of: container).kill(container, gracePeriod: gracePeriod)
    }

    public func runCommand(
        _ command: String,
        environment: [String: String],
        in container: ContainerID,
        timeout: Duration
    ) async -> ContainerTermination.Status? {
        guard let runtime = try? self.runtime(of: container) else {
            return .unknown(reason: "container '\(container)' is not known to this agent's runtimes")
        }
        return await runtime.runCommand(command, environment: environment, in: container, timeout: timeout)
    }

    /// Hands each checkpoint to the recoverable runtime for its type.
    public func recover(_ containers: [ContainerCheckpoint]) async throws -> Set<ContainerID> {
        var found = Set<ContainerID>()
        for (index, runtime) in self.runtimes.enumerated() {
            guard let recoverable = runtime as? any RecoverableContainerRuntime else { continue }
            let mine = containers.filter { self.index(for: $0.type) == index }
            let recovered = try await recoverable.recover(mine)
            self.owners.withLock { owners in
                for id in recovered { owners[id] = index }
            }
            found.formUnion(recovered)
        }
        return found
    }

    private func index(for type: ContainerInfo.ContainerType) -> Int? {
        self.runtimes.firstIndex { $0.supportedContainerTypes.contains(type) }
    }

    private func runtime(of container: ContainerID) throws -> any ContainerRuntime {
        guard let index = self.owners.withLock({ $0[container] }) else {
            throw AgentError(.containerNotFound, "Container '\(container)' is not known to this agent's runtimes.")
        }
        return self.runtimes[index]
    }
}
