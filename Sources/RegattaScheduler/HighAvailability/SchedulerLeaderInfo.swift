// SPDX-License-Identifier: Apache-2.0
import Foundation

/// What an elected scheduler's election node holds (`<zk path>/leader/json.info_NNNNNNNNNN`), so followers know
/// where to proxy: `{"id": "...", "hostname": "...", "port": N, "url": "http://host:port"}` (`https://` when the
/// scheduler serves TLS).
public struct SchedulerLeaderInfo: Codable, Hashable, Sendable, CustomStringConvertible {
    /// A unique id of the scheduler process.
    public var id: String
    /// The host name or address the scheduler serves on.
    public var hostname: String
    /// The port the scheduler serves on.
    public var port: Int
    /// The scheduler's base URL, `http://host:port` or `https://host:port`.
    public var url: String

    public init(id: String, hostname: String, port: Int, scheme: String = "http") {
        self.id = id
        self.hostname = hostname
        self.port = port
        self.url = "\(scheme)://\(hostname):\(port)"
    }

    /// `host:port`, as `/v2/leader` reports it.
    public var hostPort: String { "\(self.hostname):\(self.port)" }

    public var description: String { self.hostPort }

    /// The node's JSON.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// Parses a node's JSON.
    public init(json: [UInt8]) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(json))
    }
}
