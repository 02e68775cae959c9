// SPDX-License-Identifier: Apache-2.0
import Logging

/// Follows the leading Mesos master of a `zk://host:port[,host:port]/path` URL, the way Mesos agents and frameworks
/// do, for as long as it is iterated.
///
/// Unlike ``ZooKeeperLeaderDetector``, it outlives ZooKeeper sessions: when the session expires or no server answers,
/// it reports `nil` (so a caller ignores every master until it learns the leader again, as a Mesos agent does), then
/// reconnects with a capped backoff and reports the leader it finds.
public struct ZooKeeperMasterDetector: MasterDetector {
    /// The ensemble and election path.
    public let url: ZooKeeperURL
    /// The session timeout asked of ZooKeeper.
    public let sessionTimeout: Duration
    private let logger: Logger

    /// A detector of the leading master of `url`, with sessions that ask for `sessionTimeout`.
    public init(url: ZooKeeperURL, sessionTimeout: Duration = .seconds(10), logger: Logger) {
        self.url = url
        self.sessionTimeout = sessionTimeout
        var logger = logger
        logger[metadataKey: LogKey.path] = "\(url.path)"
        self.logger = logger
    }

    /// Yields the leading master's address each time it changes, and `nil` while no leader is known (no contender,
    /// no ZooKeeper session, or a leader node that holds no usable MasterInfo JSON).
    ///
    /// Consecutive equal values are not repeated. The stream is pulled: it connects and watches in the consumer's
    /// task while the consumer waits for the next value, so a slow consumer sees the newest leader. It never
    /// finishes by itself; when the consumer's task is cancelled it finishes and closes its ZooKeeper session.
    public func leaders() -> AsyncStream<MesosMasterAddress?> {
        let cursor = Cursor(detector: self)
        return AsyncStream(unfolding: { await cursor.next() })
    }

    /// Where one ``leaders()`` stream stands: its session, its leader watch and what it reported last.
    ///
    /// Only the stream's consumer calls ``next()``, one call at a time (an async iterator is not shared), so the
    /// state needs no lock.
    private final class Cursor: @unchecked Sendable {
        private static let maximumDelay = Duration.seconds(5)

        let detector: ZooKeeperMasterDetector
        var client: ZooKeeperClient?
        var leaders: AsyncThrowingStream<ZooKeeperLeader?, any Error>.AsyncIterator?
        var reported: MesosMasterAddress?? = .none
        /// How long to wait before the next connection attempt, after a failed one.
        var retryAfter: Duration?
        var delay = Duration.milliseconds(100)
        var finished = false

        init(detector: ZooKeeperMasterDetector) {
            self.detector = detector
        }

        /// The next change (`.some(nil)` while no leader is known), or `nil` once the consumer was cancelled.
        func next() async -> MesosMasterAddress?? {
            guard !self.finished else { return .none }
            while !Task.isCancelled {
                if let change = await self.step() { return .some(change) }
            }
            await self.finish()
            return .none
        }

        /// One connection attempt or one leader change; the address to report if it changed what was reported.
        private func step() async -> MesosMasterAddress?? {
            let logger = self.detector.logger
            guard var leaders = self.leaders, let client = self.client else {
                if let wait = self.retryAfter {
                    self.retryAfter = nil
                    try? await Task.sleep(for: wait)
                    return nil
                }
                do {
                    let client = try await ZooKeeperClient.connect(
                        url: self.detector.url,
                        sessionTimeout: self.detector.sessionTimeout,
                        logger: logger
                    )
                    self.client = client
                    self.leaders = ZooKeeperLeaderDetector(client: client, path: self.detector.url.path, logger: logger)
                        .leaders().makeAsyncIterator()
                    self.delay = .milliseconds(100)
                } catch {
                    if Task.isCancelled { return nil }
                    logger.warning(
                        "Cannot reach ZooKeeper to find the leading master; retrying",
                        metadata: [LogKey.error: "\(error)", LogKey.servers: "\(self.detector.url.connectionString)"]
                    )
                    self.retryAfter = self.delay
                    self.delay = min(self.delay * 2, Self.maximumDelay)
                    return self.report(nil)
                }
                return nil
            }
            let next: ZooKeeperLeader??
            do {
                next = try await leaders.next()
                self.leaders = leaders
            } catch {
                next = .none
                logger.warning(
                    "Lost the ZooKeeper session that followed the leading master; reconnecting",
                    metadata: [LogKey.error: "\(error)"]
                )
            }
            guard case .some(let leader) = next else {
                // The session ended (or this task was cancelled): start over with a new one.
                self.leaders = nil
                self.client = nil
                await client.close()
                return self.report(nil)
            }
            guard let leader else { return self.report(nil) }
            do {
                return self.report(try MesosMasterAddress(masterInfoJSON: leader.data))
            } catch {
                logger.error(
                    "Ignoring the leading master's election node",
                    metadata: [LogKey.leaderNode: "\(leader.nodeName)", LogKey.error: "\(error)"]
                )
                return self.report(nil)
            }
        }

        /// `.some(address)` if it differs from what was reported last (and records it), else `nil`.
        private func report(_ address: MesosMasterAddress?) -> MesosMasterAddress?? {
            if case .some(let previous) = self.reported, previous == address { return .none }
            self.reported = .some(address)
            return .some(address)
        }

        private func finish() async {
            self.finished = true
            self.leaders = nil
            if let client = self.client {
                self.client = nil
                await client.close()
            }
        }
    }
}

extension ZooKeeperMasterDetector {
    /// Makes a detector for each `zk://` master URL: what the agent, the simulator and the scheduler's master
    /// connection are given to find the leading master.
    public static func factory(logger: Logger) -> MasterDetectorFactory {
        { url, sessionTimeout in ZooKeeperMasterDetector(url: url, sessionTimeout: sessionTimeout, logger: logger) }
    }
}
