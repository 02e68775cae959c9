// SPDX-License-Identifier: Apache-2.0
import Logging

/// Takes part in a leader election the way Mesos masters do: an ephemeral, sequential `<path>/json.info_` node holds
/// this contender's data (for a master, its `MasterInfo` JSON), and the node with the lowest sequence leads.
///
/// Existing Mesos tooling and ``ZooKeeperLeaderDetector`` find the leader from these nodes. The candidacy lasts as
/// long as the node: ``withdraw()`` deletes it, and it goes away by itself when the client is closed or its session
/// expires.
public final class LeaderContender: Sendable {
    /// The client whose session owns the node.
    public let client: ZooKeeperClient
    /// The election path (the znode under which the contenders' nodes live), e.g. `/mesos`.
    public let path: String
    /// This contender's node, e.g. `/mesos/json.info_0000000003`.
    public let nodePath: String
    /// The sequence ZooKeeper assigned; the lowest among the contenders leads.
    public let sequence: Int64
    private let logger: Logger

    private init(client: ZooKeeperClient, path: String, nodePath: String, sequence: Int64, logger: Logger) {
        self.client = client
        self.path = path
        self.nodePath = nodePath
        self.sequence = sequence
        self.logger = logger
    }

    /// The node's name within ``path``.
    public var nodeName: String { String(self.nodePath.split(separator: "/").last ?? "") }

    /// Enters the election: creates `path` (and its parents) if needed, then this contender's node holding `data`.
    ///
    /// - Throws: ``ZooKeeperError`` if the node cannot be created.
    public static func contend(
        client: ZooKeeperClient,
        path: String,
        data: [UInt8],
        logger: Logger
    ) async throws -> LeaderContender {
        let prefix = childPath(path, ElectionNode.label)
        try await client.retryingAfterConnectionLoss { try await client.createParents(of: prefix) }
        // Not retried after a lost connection: the node may exist already, and a second one would be a second
        // candidacy. The session's end removes an orphan.
        let nodePath = try await client.create(prefix, data: data, ephemeral: true, sequential: true)
        let name = String(nodePath.split(separator: "/").last ?? "")
        guard let node = ElectionNode(name: name) else {
            throw ZooKeeperError(
                .system,
                "ZooKeeper created '\(nodePath)' for an election node under '\(path)', which is not a "
                    + "json.info_<sequence> name.",
                path: nodePath
            )
        }
        var logger = logger
        logger[metadataKey: LogKey.path] = "\(nodePath)"
        logger.info("Entered the leader election")
        return LeaderContender(client: client, path: path, nodePath: nodePath, sequence: node.sequence, logger: logger)
    }

    /// Whether this contender's node currently has the lowest sequence.
    ///
    /// - Throws: ``ZooKeeperError`` with `.candidacyLost` if the node is gone.
    public func isLeader() async throws -> Bool {
        let children = try await self.client.retryingAfterConnectionLoss {
            try await self.client.getChildren(self.path)
        }
        return try self.leads(among: ElectionNode.candidates(in: children))
    }

    /// Returns once this contender leads (at once if it does).
    ///
    /// - Throws: ``ZooKeeperError`` with `.candidacyLost` if the node disappears first, or the session's error if
    ///   it ends; `CancellationError`.
    public func waitUntilElected() async throws {
        while true {
            let watched = try await self.client.retryingAfterConnectionLoss {
                try await self.client.watchChildren(self.path)
            }
            if try self.leads(among: ElectionNode.candidates(in: watched.value)) {
                self.logger.info("Elected leader")
                return
            }
            _ = try await watched.watch.event()
        }
    }

    /// Returns when the candidacy has ended: the node was deleted, or the session expired or was closed.
    ///
    /// - Throws: `CancellationError` only.
    public func waitUntilCandidacyLost() async throws {
        while true {
            do {
                let watched = try await self.client.retryingAfterConnectionLoss {
                    try await self.client.watchExists(self.nodePath)
                }
                guard let stat = watched.value, stat.ephemeralOwner == self.client.sessionID?.id else { return }
                let event = try await watched.watch.event()
                if event.kind == .deleted { return }
            } catch let error as ZooKeeperError {
                self.logger.debug("Candidacy ended with the session", metadata: [LogKey.error: "\(error)"])
                return
            }
        }
    }

    /// Leaves the election by deleting the node; a node that is already gone is not an error.
    public func withdraw() async throws {
        do {
            try await self.client.delete(self.nodePath)
            self.logger.info("Withdrew from the leader election")
        } catch let error as ZooKeeperError where error.code == .noNode {
            return
        }
    }

    private func leads(among candidates: [ElectionNode]) throws -> Bool {
        guard candidates.contains(where: { $0.sequence == self.sequence && $0.name == self.nodeName }) else {
            throw ZooKeeperError(
                .candidacyLost,
                "The election node '\(self.nodePath)' is gone (deleted, or its session expired); contend again to "
                    + "rejoin the election.",
                path: self.nodePath
            )
        }
        return candidates.first?.name == self.nodeName
    }
}
