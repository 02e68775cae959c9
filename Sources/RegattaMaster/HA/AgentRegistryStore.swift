// SPDX-License-Identifier: Apache-2.0

/// Durable storage of the master's agent registry: one ``AgentRegistryEntry`` per agent, read by a newly elected
/// master to recover the agents its predecessor admitted.
///
/// Implementations: `ZooKeeperAgentRegistryStore` in RegattaZooKeeper (nodes under `<zk path>/registry/agents`),
/// `InMemoryAgentRegistryStore` in RegattaMasterTestKit.
public protocol AgentRegistryStore: Sendable {
    /// Where the registry lives, for messages (e.g. `/mesos/registry/agents`).
    var location: String { get }

    /// Reads every entry, creating the registry if it is missing. Entries that cannot be decoded are logged and
    /// skipped; a passing outage of the store is waited out.
    func load() async throws -> [AgentRegistryEntry]

    /// Stores `entry` as the entry of its agent, replacing any earlier one.
    ///
    /// - Parameter exists: whether the entry is believed to be stored already; a hint for the store, which must
    ///   behave the same either way.
    func save(_ entry: AgentRegistryEntry, exists: Bool) async throws
}
