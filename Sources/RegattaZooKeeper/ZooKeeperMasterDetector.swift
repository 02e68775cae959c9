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
    /// Consecutive equal values are not repeated; a slow consumer sees only the newest. The stream never finishes
    /// by itself; it stops (and closes its ZooKeeper session) when the consumer stops iterating or is cancelled.
    public func leaders() -> AsyncStream<MesosMasterAddress?> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: MesosMasterAddress?.self,
            bufferingPolicy: .bufferingNewest(1)
        )
        let task = Task {
            var last: MesosMasterAddress?? = .none
            func report(_ address: MesosMasterAddress?) {
                if case .some(let previous) = last, previous == address { return }
                last = .some(address)
                continuation.yield(address)
            }
            await self.follow(report)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Connects, watches, and reconnects until cancelled.
    private func follow(_ report: (MesosMasterAddress?) -> Void) async {
        var delay = Duration.milliseconds(100)
        let maximumDelay = Duration.seconds(5)
        while !Task.isCancelled {
            let client: ZooKeeperClient
            do {
                client = try await ZooKeeperClient.connect(
                    url: self.url,
                    sessionTimeout: self.sessionTimeout,
                    logger: self.logger
                )
            } catch {
                self.logger.warning(
                    "Cannot reach ZooKeeper to find the leading master; retrying",
                    metadata: [LogKey.error: "\(error)", LogKey.servers: "\(self.url.connectionString)"]
                )
                report(nil)
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, maximumDelay)
                continue
            }
            delay = .milliseconds(100)
            let detector = ZooKeeperLeaderDetector(client: client, path: self.url.path, logger: self.logger)
            do {
                for try await leader in detector.leaders() {
                    guard let leader else {
                        report(nil)
                        continue
                    }
                    do {
                        report(try MesosMasterAddress(masterInfoJSON: leader.data))
                    } catch {
                        self.logger.error(
                            "Ignoring the leading master's election node",
                            metadata: [LogKey.leaderNode: "\(leader.nodeName)", LogKey.error: "\(error)"]
                        )
                        report(nil)
                    }
                }
            } catch {
                self.logger.warning(
                    "Lost the ZooKeeper session that followed the leading master; reconnecting",
                    metadata: [LogKey.error: "\(error)"]
                )
            }
            report(nil)
            await client.close()
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
