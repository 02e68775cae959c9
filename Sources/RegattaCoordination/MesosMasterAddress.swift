// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Where a Mesos master answers, as its `MasterInfo` JSON in a `json.info_` election node says.
public struct MesosMasterAddress: Hashable, Sendable, CustomStringConvertible {
    /// The master's IP address or host name.
    public var host: String
    /// The master's HTTP port.
    public var port: Int
    /// The master's id (`MasterInfo.id`), when the node gave one.
    public var id: String?
    /// `https` when the master serves TLS (its MasterInfo's `address.scheme`), else `http`.
    public var scheme: String

    public init(host: String, port: Int, id: String? = nil, scheme: String = "http") {
        self.host = host
        self.port = port
        self.id = id
        self.scheme = scheme
    }

    /// `host:port`.
    public var hostPort: String { "\(self.host):\(self.port)" }

    /// `scheme://host:port` (an IPv6 address in brackets).
    public var baseURL: String {
        let host = self.host.contains(":") && !self.host.hasPrefix("[") ? "[\(self.host)]" : self.host
        return "\(self.scheme)://\(host):\(self.port)"
    }

    /// `https://host:port` when `requiringTLS` (a daemon that trusts a CA: the scheme in ZooKeeper is not
    /// authenticated, and whoever can write the election path must not turn its links to plain HTTP), else
    /// ``baseURL``.
    public func baseURL(requiringTLS: Bool) -> String {
        guard requiringTLS, self.scheme != "https" else { return self.baseURL }
        var address = self
        address.scheme = "https"
        return address.baseURL
    }

    public var description: String { self.hostPort }

    /// Reads the address from the `MasterInfo` JSON a Mesos (or Regatta) master writes into its election node.
    ///
    /// Uses `address.ip`, then `address.hostname`, then `hostname`, then the packed `ip` field (a `uint32` in network
    /// byte order, as Mesos writes it); the port is `address.port`, else `port`; the scheme is `address.scheme`
    /// (`https` from a Regatta master serving TLS), else `http`.
    /// - Throws: ``ZooKeeperError`` with `.invalidData` when the data is not such JSON.
    public init(masterInfoJSON data: [UInt8]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw ZooKeeperError(
                .invalidData,
                "The leader's election node does not hold MasterInfo JSON (\(data.count) bytes); a master that "
                    + "writes another format (such as Mesos's protobuf `info_` nodes) cannot be followed."
            )
        }
        let address = object["address"] as? [String: Any]
        let port = (address?["port"] as? NSNumber)?.intValue ?? (object["port"] as? NSNumber)?.intValue
        var host = (address?["ip"] as? String) ?? (address?["hostname"] as? String) ?? (object["hostname"] as? String)
        if host == nil || host?.isEmpty == true, let packed = (object["ip"] as? NSNumber)?.uint32Value {
            host = [packed & 0xff, (packed >> 8) & 0xff, (packed >> 16) & 0xff, packed >> 24]
                .map(String.init).joined(separator: ".")
        }
        guard let host, !host.isEmpty, let port, (1...65_535).contains(port) else {
            throw ZooKeeperError(
                .invalidData,
                "The leader's MasterInfo JSON has no usable address (need address.ip or hostname, and a port in "
                    + "1…65535)."
            )
        }
        let scheme = (address?["scheme"] as? String)?.lowercased() == "https" ? "https" : "http"
        self.init(host: host, port: port, id: object["id"] as? String, scheme: scheme)
    }
}
