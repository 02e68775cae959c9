// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCoordination
import RegattaCore

/// The `MasterInfo` JSON a master writes into its `json.info_` election node, in Mesos's format, so Mesos tools
/// (kazoo-based detectors, `pymesos` with a `zk://` master, `mesos-resolve`) find the leader:
/// `{"id", "ip" (uint32, network byte order), "port", "pid": "master@IP:PORT", "hostname", "version",
/// "address": {"hostname", "ip", "port"}}`, plus `address.scheme: "https"` when the master serves TLS (a Regatta
/// extension that Mesos's parsers ignore).
public enum MasterInfoJSON {
    /// Encodes `info` as election-node data.
    public static func encode(_ info: MasterInfo) throws -> [UInt8] {
        Array(try MesosJSON.encode(info))
    }

    /// Decodes another master's election-node data.
    ///
    /// Accepts full `MasterInfo` JSON, and falls back to the address fields alone (what
    /// `MesosMasterAddress(masterInfoJSON:)` reads) for writers that leave out `id` or `ip`.
    /// - Throws: `ZooKeeperError` with `.invalidData` when the data names no usable address.
    public static func decode(_ data: [UInt8]) throws -> MasterInfo {
        if let info = try? MesosJSON.decode(MasterInfo.self, from: Data(data)) {
            return info
        }
        let address = try MesosMasterAddress(masterInfoJSON: data)
        var info = MasterInfo(
            id: address.id ?? "",
            ip: address.host,
            port: address.port,
            hostname: address.host,
            version: RegattaVersion.mesosCompatible
        )
        if address.scheme != "http" { info.address?.scheme = address.scheme }
        return info
    }

    /// The host a redirect to `info` should name: its hostname, else its address, else the packed IP.
    public static func host(of info: MasterInfo) -> String {
        if let hostname = info.hostname, !hostname.isEmpty { return hostname }
        if let ip = info.address?.ip, !ip.isEmpty { return ip }
        let packed = info.ip
        return [packed & 0xff, (packed >> 8) & 0xff, (packed >> 16) & 0xff, packed >> 24]
            .map(String.init).joined(separator: ".")
    }
}
