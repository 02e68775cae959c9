// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import Synchronization

/// The master's durable agent list, kept in an ``AgentRegistryStore``.
///
/// Writes for one agent run in the order they were submitted (each waits for the previous one of that agent);
/// writes for different agents run concurrently, so a store can pipeline them and thousands of agents can be
/// admitted within seconds.
public final class AgentRegistry: Sendable {
    /// Where the registry lives, for messages (e.g. `/mesos/registry/agents`).
    public var agentsPath: String { self.store.location }
    private let store: any AgentRegistryStore
    private let logger: Logger
    private let pending = Mutex<[AgentID: Task<Void, any Error>]>([:])

    /// A registry kept in `store`.
    public init(store: any AgentRegistryStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Reads every entry (creating the registry if missing). Entries that cannot be decoded are skipped.
    public func load() async throws -> [AgentRegistryEntry] {
        try await self.store.load()
    }

    /// Writes `entry` like ``write(_:exists:)`` without waiting; a failure is logged.
    public func writeInBackground(_ entry: AgentRegistryEntry, exists: Bool) {
        let task = self.write(entry, exists: exists)
        let logger = self.logger
        Task {
            if case .failure(let error) = await task.result {
                logger.error(
                    "Could not update the agent registry",
                    metadata: [
                        LogKey.agentID: "\(entry.agentID)", "registry.state": "\(entry.state.rawValue)",
                        LogKey.error: "\(error)",
                    ]
                )
            }
        }
    }

    /// Writes `entry` after any earlier write for the same agent and returns the write's task.
    ///
    /// - Parameter exists: whether the node is believed to exist (update), or not (create); either way the other
    ///   operation is used if ZooKeeper disagrees.
    @discardableResult
    public func write(_ entry: AgentRegistryEntry, exists: Bool) -> Task<Void, any Error> {
        let id = entry.agentID
        let store = self.store
        return self.pending.withLock { pending in
            let previous = pending[id]
            let task = Task<Void, any Error> {
                _ = await previous?.result
                try await store.save(entry, exists: exists)
            }
            pending[id] = task
            // Forget the task once it is done, unless a later write replaced it.
            Task { [weak self] in
                _ = await task.result
                self?.pending.withLock { pending in
                    if pending[id] == task { pending[id] = nil }
                }
            }
            return task
        }
    }
}
