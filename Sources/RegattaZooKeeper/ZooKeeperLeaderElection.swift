// SPDX-License-Identifier: Apache-2.0
import Logging

/// A ``LeaderElection`` in ZooKeeper, the way Mesos masters elect: each candidacy is an ephemeral sequential
/// `<path>/json.info_` node (a ``LeaderContender``) holding the contender's data; the lowest sequence leads.
///
/// The election owns its client: ``close()`` closes it, which deletes this session's candidacies at once.
public struct ZooKeeperLeaderElection: LeaderElection {
    /// The connected client whose session holds the candidacies.
    public let client: ZooKeeperClient
    /// The election path, e.g. `/mesos`.
    public let path: String
    private let configuredSessionTimeout: Duration
    private let logger: Logger

    /// An election under `path` in `client`'s session.
    ///
    /// - Parameter sessionTimeout: the timeout asked of ZooKeeper, used until the server has negotiated one.
    public init(client: ZooKeeperClient, path: String, sessionTimeout: Duration, logger: Logger) {
        self.client = client
        self.path = path
        self.configuredSessionTimeout = sessionTimeout
        self.logger = logger
    }

    /// The negotiated session timeout, or the one asked for before the session is established.
    public var sessionTimeout: Duration { self.client.negotiatedSessionTimeout ?? self.configuredSessionTimeout }

    public func sessionStates() -> AsyncStream<CoordinationSessionState> {
        self.client.sessionStates()
    }

    public func contend(data: [UInt8]) async throws -> any LeaderCandidacy {
        do {
            let contender = try await LeaderContender.contend(
                client: self.client,
                path: self.path,
                data: data,
                logger: self.logger
            )
            return ZooKeeperLeaderCandidacy(contender: contender)
        } catch let error as ZooKeeperError {
            throw ZooKeeperLeaderCandidacy.map(error)
        }
    }

    public func detector() -> any LeaderDetector {
        ZooKeeperLeaderDetector(client: self.client, path: self.path, logger: self.logger)
    }

    public func close() async {
        await self.client.close()
    }
}

/// A ``LeaderCandidacy`` held by a ``LeaderContender``'s election node.
struct ZooKeeperLeaderCandidacy: LeaderCandidacy {
    let contender: LeaderContender

    var name: String { self.contender.nodePath }
    var epoch: Int64 { self.contender.sequence }

    func waitUntilElected() async throws {
        do {
            try await self.contender.waitUntilElected()
        } catch let error as ZooKeeperError {
            throw Self.map(error)
        }
    }

    func waitUntilLost() async throws {
        try await self.contender.waitUntilCandidacyLost()
    }

    func withdraw() async throws {
        do {
            try await self.contender.withdraw()
        } catch let error as ZooKeeperError {
            throw Self.map(error)
        }
    }

    /// The election error a ZooKeeper error means.
    static func map(_ error: ZooKeeperError) -> LeaderElectionError {
        switch error.code {
        case .candidacyLost: LeaderElectionError(.candidacyLost, "\(error)")
        case .sessionExpired, .authenticationFailed, .closed: LeaderElectionError(.sessionEnded, "\(error)")
        default: LeaderElectionError(.unavailable, "\(error)")
        }
    }
}
