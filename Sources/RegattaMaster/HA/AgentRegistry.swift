// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import RegattaZooKeeper
import Synchronization

/// The master's durable agent list in ZooKeeper: one persistent node per agent under `<zk path>/registry/agents`,
/// holding its ``AgentRegistryEntry`` JSON.
///
/// Writes for one agent run in the order they were submitted (each waits for the previous one of that agent);
/// writes for different agents run concurrently, so the ZooKeeper client pipelines them on its one connection and
/// thousands of agents can be admitted within seconds.
public final class AgentRegistry: Sendable {
    /// The node under which the agents' nodes live, e.g. `/mesos/registry/agents`.
    public let agentsPath: String
    private let client: ZooKeeperClient
    private let logger: Logger
    private let pending = Mutex<[AgentID: Task<Void, any Error>]>([:])

    /// - Parameter electionPath: the `--zk` URL's path (e.g. `/mesos`); the registry lives under `<path>/registry`.
    public init(client: ZooKeeperClient, electionPath: String, logger: Logger) {
        let base = electionPath.hasSuffix("/") ? String(electionPath.dropLast()) : electionPath
        self.agentsPath = base + "/registry/agents"
        self.client = client
        self.logger = logger
    }

    /// Reads every entry (creating the registry's nodes if missing). Entries that cannot be decoded are logged and
    /// skipped.
    public func load() async throws -> [AgentRegistryEntry] {
        try await self.client.createParents(of: self.agentsPath + "/_")
        let children: [String]
        do {
            children = try await self.client.getChildren(self.agentsPath)
        } catch let error as ZooKeeperError where error.code == .noNode {
            children = []
        }
        let client = self.client
        let path = self.agentsPath
        var entries: [AgentRegistryEntry] = []
        entries.reserveCapacity(children.count)
        // Read in batches: all requests of a batch are in flight at once on the one connection.
        for batch in stride(from: 0, to: children.count, by: 1000) {
            let names = children[batch..<min(batch + 1000, children.count)]
            try await withThrowingTaskGroup(of: (String, [UInt8]?).self) { group in
                for name in names {
                    group.addTask {
                        do {
                            return (name, try await client.getData(path + "/" + name).data)
                        } catch let error as ZooKeeperError where error.code == .noNode {
                            return (name, nil)
                        }
                    }
                }
                for try await (name, data) in group {
                    guard let data else { continue }
                    do {
                        entries.append(try AgentRegistryEntry(data: data))
                    } catch {
                        self.logger.error(
                            "Skipping an unreadable agent registry entry",
                            metadata: ["zk.path": "\(path)/\(name)", LogKey.error: "\(error)"]
                        )
                    }
                }
            }
        }
        return entries
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
        let client = self.client
        let path = self.agentsPath + "/" + AgentRegistryEntry.nodeName(id)
        return self.pending.withLock { pending in
            let previous = pending[id]
            let task = Task<Void, any Error> {
                _ = await previous?.result
                let data = try entry.encoded()
                if exists {
                    do {
                        _ = try await client.setData(path, data: data)
                    } catch let error as ZooKeeperError where error.code == .noNode {
                        try await client.create(path, data: data)
                    }
                } else {
                    do {
                        try await client.create(path, data: data)
                    } catch let error as ZooKeeperError where error.code == .nodeExists {
                        _ = try await client.setData(path, data: data)
                    }
                }
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
