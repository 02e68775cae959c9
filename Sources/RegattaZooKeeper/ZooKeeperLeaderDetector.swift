// SPDX-License-Identifier: Apache-2.0
import Logging

/// The leader of a Mesos-style election: the `json.info_` node with the lowest sequence, and its data.
public typealias ZooKeeperLeader = ElectedLeader

extension ElectedLeader {
    /// A leader whose election node is `nodeName`, with `sequence` as its epoch.
    public init(nodeName: String, sequence: Int64, data: [UInt8]) {
        self.init(name: nodeName, epoch: sequence, data: data)
    }

    /// The election node's name, e.g. `json.info_0000000003`.
    public var nodeName: String { self.name }
    /// The election node's sequence.
    public var sequence: Int64 { self.epoch }
}

/// Finds the leader of a Mesos-style election under a path and reports when it changes, the way Mesos agents and
/// frameworks find the leading master from `zk://…/mesos`.
///
/// Only children named `json.info_<sequence>` take part; the lowest sequence leads.
public struct ZooKeeperLeaderDetector: LeaderDetector {
    /// The client whose session the watches use.
    public let client: ZooKeeperClient
    /// The election path, e.g. `/mesos`.
    public let path: String
    private let logger: Logger

    /// A detector of the election under `path`, in `client`'s session.
    public init(client: ZooKeeperClient, path: String, logger: Logger) {
        self.client = client
        self.path = path
        var logger = logger
        logger[metadataKey: LogKey.path] = "\(path)"
        self.logger = logger
    }

    /// The current leader, or `nil` if there is no contender (or no election path yet).
    public func currentLeader() async throws -> ZooKeeperLeader? {
        while true {
            let children: [String]
            do {
                children = try await self.client.retryingAfterConnectionLoss {
                    try await self.client.getChildren(self.path)
                }
            } catch let error as ZooKeeperError where error.code == .noNode {
                return nil
            }
            guard let node = ElectionNode.candidates(in: children).first else { return nil }
            if let leader = try await self.read(node) { return leader }
            // The leader's node went away between listing and reading it: look again.
        }
    }

    /// Yields the current leader at once, then the new leader each time it changes (`nil` while there is none).
    ///
    /// The stream keeps only the newest value for a slow consumer. It finishes with the session's error when the
    /// session expires or the client is closed, and stops watching when the consumer stops iterating.
    public func leaders() -> AsyncThrowingStream<ZooKeeperLeader?, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: ZooKeeperLeader?.self,
            throwing: (any Error).self,
            bufferingPolicy: .bufferingNewest(1)
        )
        let task = Task {
            do {
                try await self.watchLeaders { continuation.yield($0) }
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch {
                self.logger.debug("Stopped detecting the leader", metadata: [LogKey.error: "\(error)"])
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func watchLeaders(_ report: (ZooKeeperLeader?) -> Void) async throws {
        var reported: ZooKeeperLeader?? = .none
        while true {
            try Task.checkCancellation()
            let children: [String]
            let watch: ZooKeeperWatch
            do {
                let watched = try await self.client.retryingAfterConnectionLoss {
                    try await self.client.watchChildren(self.path)
                }
                children = watched.value
                watch = watched.watch
            } catch let error as ZooKeeperError where error.code == .noNode {
                // No election path yet: wait for it to appear.
                let watched = try await self.client.retryingAfterConnectionLoss {
                    try await self.client.watchExists(self.path)
                }
                if watched.value != nil { continue }
                children = []
                watch = watched.watch
            }

            var leader: ZooKeeperLeader?
            if let node = ElectionNode.candidates(in: children).first {
                if case .some(.some(let previous)) = reported, previous.nodeName == node.name {
                    leader = previous
                } else {
                    guard let read = try await self.read(node) else { continue }
                    leader = read
                }
            }
            if case .some(let previous) = reported, previous?.nodeName == leader?.nodeName {
                // Some other contender came or went; the leader is the same.
            } else {
                self.logger.info(
                    "Leader changed",
                    metadata: [LogKey.leaderNode: "\(leader.map(\.nodeName) ?? "none")"]
                )
                report(leader)
                reported = .some(leader)
            }
            _ = try await watch.event()
        }
    }

    /// Reads an election node; `nil` if it is gone.
    private func read(_ node: ElectionNode) async throws -> ZooKeeperLeader? {
        do {
            let data = try await self.client.retryingAfterConnectionLoss {
                try await self.client.getData(childPath(self.path, node.name))
            }
            return ZooKeeperLeader(nodeName: node.name, sequence: node.sequence, data: data.data)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }
}
