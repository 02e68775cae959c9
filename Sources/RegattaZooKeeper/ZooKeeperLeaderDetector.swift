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
    /// The stream is pulled: it watches in the consumer's task, only while the consumer waits for the next value, so
    /// a slow consumer sees the newest leader and nothing runs once it stops iterating or is cancelled. It finishes
    /// with the session's error when the session expires or the client is closed.
    public func leaders() -> AsyncThrowingStream<ZooKeeperLeader?, any Error> {
        let cursor = Cursor(detector: self)
        return AsyncThrowingStream { try await cursor.next() }
    }

    /// Where one ``leaders()`` stream stands: the leader it reported and the watch set since.
    ///
    /// Only the stream's consumer calls ``next()``, one call at a time (an async iterator is not shared), so the
    /// state needs no lock.
    private final class Cursor: @unchecked Sendable {
        let detector: ZooKeeperLeaderDetector
        var reported: ZooKeeperLeader?? = .none
        var watch: ZooKeeperWatch?
        var finished = false

        init(detector: ZooKeeperLeaderDetector) {
            self.detector = detector
        }

        /// The next leader (`.some(nil)` for none), or `nil` once the stream has ended.
        func next() async throws -> ZooKeeperLeader?? {
            guard !self.finished else { return .none }
            do {
                while true {
                    if let watch = self.watch {
                        _ = try await watch.event()
                        self.watch = nil
                    }
                    guard let found = try await self.detector.look(reported: self.reported) else { continue }
                    let (leader, watch) = found
                    self.watch = watch
                    if case .some(let previous) = self.reported, previous?.nodeName == leader?.nodeName {
                        continue  // Some other contender came or went; the leader is the same.
                    }
                    self.detector.logger.info(
                        "Leader changed",
                        metadata: [LogKey.leaderNode: "\(leader.map(\.nodeName) ?? "none")"]
                    )
                    self.reported = .some(leader)
                    return .some(leader)
                }
            } catch is CancellationError {
                self.finished = true
                return .none
            } catch {
                self.finished = true
                self.detector.logger.debug("Stopped detecting the leader", metadata: [LogKey.error: "\(error)"])
                throw error
            }
        }
    }

    /// Lists the contenders with a watch and reads the leader (reusing `reported` if it still leads); `nil` when the
    /// listing must be repeated (the path appeared, or the leader's node went away before it was read).
    private func look(reported: ZooKeeperLeader??) async throws -> (ZooKeeperLeader?, ZooKeeperWatch)? {
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
            if watched.value != nil { return nil }
            children = []
            watch = watched.watch
        }
        guard let node = ElectionNode.candidates(in: children).first else { return (nil, watch) }
        if case .some(.some(let previous)) = reported, previous.nodeName == node.name { return (previous, watch) }
        guard let read = try await self.read(node) else { return nil }
        return (read, watch)
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
