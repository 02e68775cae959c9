// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCoordination

/// Where the agent finds its master: one fixed address, or the leader elected under a ZooKeeper path.
enum MasterSource: Sendable, Equatable, CustomStringConvertible {
    /// A fixed master: `http[s]://host:port/api/v1/agent`. A non-leading master's `307` is followed.
    case fixed(endpoint: String)
    /// The leading master of a `zk://` URL (Mesos's `json.info_` election nodes); every other master is ignored.
    case zooKeeper(ZooKeeperURL)

    /// Parses a `--master` value: `host:port`, `host`, `http[s]://host:port`, or `zk://[user:pass@]h:p[,h:p]/path`;
    /// a bare address is reached with `defaultScheme` (`https` once `--tls_ca_file` is given).
    ///
    /// - Throws: `AgentError.invalidConfiguration` for a malformed value.
    init(master: String, defaultScheme: String = "http") throws {
        let text = master.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("zk://") {
            let url: ZooKeeperURL
            do {
                url = try ZooKeeperURL(parsing: text)
            } catch {
                throw AgentError(
                    .invalidConfiguration,
                    "The master's ZooKeeper URL is not usable (\(error)); write it as "
                        + "zk://host:port[,host:port]/path, e.g. zk://127.0.0.1:2181/mesos."
                )
            }
            guard url.path.count > 1 else {
                throw AgentError(
                    .invalidConfiguration,
                    "The master's ZooKeeper URL names no election path; add the masters' --zk path, e.g. "
                        + "zk://127.0.0.1:2181/mesos."
                )
            }
            self = .zooKeeper(url)
            return
        }
        self = .fixed(endpoint: try MasterClient.endpoint(master: text, defaultScheme: defaultScheme))
    }

    /// The agent endpoint of a master at `host:port`, over the scheme its MasterInfo names, or https whatever it
    /// names when `requiringTLS` (an agent given `--tls_ca_file`).
    static func endpoint(_ address: MesosMasterAddress, requiringTLS: Bool = false) -> String {
        "\(address.baseURL(requiringTLS: requiringTLS))/api/v1/agent"
    }

    /// The agent endpoint that a `Location` header (absolute, scheme-relative `//host:port/…`, or a path on the
    /// same master) points at, relative to `endpoint`; `nil` if it names no usable master.
    static func endpoint(location: String, relativeTo endpoint: String) -> String? {
        guard let base = URL(string: endpoint), let url = URL(string: location, relativeTo: base)?.absoluteURL,
            let host = url.host, !host.isEmpty
        else { return nil }
        let port = url.port ?? 5050
        guard (1...65_535).contains(port) else { return nil }
        let scheme = url.scheme?.lowercased() == "https" ? "https" : "http"
        return Self.endpoint(MesosMasterAddress(host: host, port: port, scheme: scheme))
    }

    var description: String {
        switch self {
        case .fixed(let endpoint): endpoint
        case .zooKeeper(let url): "\(url)"
        }
    }
}
