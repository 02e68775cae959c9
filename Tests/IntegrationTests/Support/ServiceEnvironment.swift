// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// The real services `scripts/test.sh` (or `eval "$(scripts/services.sh start)"`) starts on 127.0.0.1 for the
/// integration tests, read from the environment. Gate tests on them:
///
/// ```swift
/// @Test(.enabled(if: ServiceEnvironment.dockerEnabled, ServiceEnvironment.dockerSkipReason))
/// ```
enum ServiceEnvironment {
    /// `REGATTA_TEST_PG_URL`: `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, no password).
    static var postgresURL: String? { value("REGATTA_TEST_PG_URL") }

    /// `REGATTA_TEST_ZK`: `127.0.0.1:PORT` of a standalone ZooKeeper.
    static var zooKeeper: String? { value("REGATTA_TEST_ZK") }

    /// `REGATTA_TEST_DOCKER=1`: a Docker daemon answers on `/var/run/docker.sock` with bridge networking, and ports
    /// published on 127.0.0.1 are reachable from the host.
    static var dockerEnabled: Bool { value("REGATTA_TEST_DOCKER") == "1" }

    /// `REGATTA_TEST_DOCKER_IMAGE`: a local image holding busybox and its applets (`sh`, `httpd`, `sleep`, `nc`, …);
    /// nothing is ever pulled.
    static var dockerImage: String { value("REGATTA_TEST_DOCKER_IMAGE") ?? "regatta-test/busybox:latest" }

    /// The ZooKeeper URL for a test's own election path, e.g. `zooKeeperURL(path: "/test-\(UUID())/mesos")`.
    static func zooKeeperURL(path: String) -> String? {
        zooKeeper.map { "zk://\($0)\(path.hasPrefix("/") ? path : "/" + path)" }
    }

    /// The parts of ``postgresURL``, for clients configured field by field.
    static var postgres: (host: String, port: Int, username: String, database: String)? {
        guard let text = postgresURL, let components = URLComponents(string: text), let host = components.host else {
            return nil
        }
        let database = components.path.split(separator: "/").first.map(String.init) ?? "postgres"
        return (host, components.port ?? 5432, components.user ?? "postgres", database)
    }

    static let postgresSkipReason: Comment = "needs REGATTA_TEST_PG_URL (scripts/test.sh starts PostgreSQL)"
    static let zooKeeperSkipReason: Comment = "needs REGATTA_TEST_ZK (scripts/test.sh starts ZooKeeper)"
    static let dockerSkipReason: Comment = "needs REGATTA_TEST_DOCKER=1 (scripts/test.sh starts dockerd)"

    private static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
