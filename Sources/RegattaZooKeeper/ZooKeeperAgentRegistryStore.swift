// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaMaster

/// The master's ``AgentRegistryStore`` in ZooKeeper: one persistent node per agent under
/// `<zk path>/registry/agents`, holding its ``AgentRegistryEntry`` JSON.
public struct ZooKeeperAgentRegistryStore: AgentRegistryStore {
    /// The node under which the agents' nodes live, e.g. `/mesos/registry/agents`.
    public let location: String
    private let client: ZooKeeperClient
    private let logger: Logger

    /// - Parameter electionPath: the `--zk` URL's path (e.g. `/mesos`); the registry lives under `<path>/registry`.
    public init(client: ZooKeeperClient, electionPath: String, logger: Logger) {
        let base = electionPath.hasSuffix("/") ? String(electionPath.dropLast()) : electionPath
        self.location = base + "/registry/agents"
        self.client = client
        self.logger = logger
    }

    /// Reads every entry (creating the registry's nodes if missing), again after a connection blip: the election's
    /// session rules end the process if the blip lasts the session timeout.
    public func load() async throws -> [AgentRegistryEntry] {
        while true {
            do {
                return try await self.loadOnce()
            } catch let error as ZooKeeperError where error.code == .connectionLoss || error.code == .operationTimeout {
                try await self.client.waitUntilConnected()
            }
        }
    }

    private func loadOnce() async throws -> [AgentRegistryEntry] {
        try await self.client.createParents(of: self.location + "/_")
        let children: [String]
        do {
            children = try await self.client.getChildren(self.location)
        } catch let error as ZooKeeperError where error.code == .noNode {
            children = []
        }
        let client = self.client
        let path = self.location
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
                            metadata: [LogKey.path: "\(path)/\(name)", LogKey.error: "\(error)"]
                        )
                    }
                }
            }
        }
        return entries
    }

    /// Creates or updates the agent's node; either way the other operation is used if ZooKeeper disagrees with
    /// `exists`.
    public func save(_ entry: AgentRegistryEntry, exists: Bool) async throws {
        let path = self.location + "/" + AgentRegistryEntry.nodeName(entry.agentID)
        let data = try entry.encoded()
        if exists {
            do {
                _ = try await self.client.setData(path, data: data)
            } catch let error as ZooKeeperError where error.code == .noNode {
                try await self.client.create(path, data: data)
            }
        } else {
            do {
                try await self.client.create(path, data: data)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                _ = try await self.client.setData(path, data: data)
            }
        }
    }
}
