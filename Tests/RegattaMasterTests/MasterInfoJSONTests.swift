// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaZooKeeper
import Testing

@testable import RegattaMaster

@Suite struct MasterInfoJSONTests {
    let info = MasterInfo(
        id: "m-1",
        ip: "10.1.2.3",
        port: 5050,
        hostname: "master-a",
        version: "1.12.0"
    )

    private func object(_ data: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any])
    }

    @Test func encodesMesosFieldsWithTheIPPackedInNetworkByteOrder() throws {
        let json = try self.object(try MasterInfoJSON.encode(self.info))
        #expect(json["id"] as? String == "m-1")
        // 10.1.2.3 in network byte order read as a little-endian uint32: 10 | 1<<8 | 2<<16 | 3<<24.
        #expect((json["ip"] as? NSNumber)?.uint32Value == 50_462_986)
        #expect((json["port"] as? NSNumber)?.intValue == 5050)
        #expect(json["pid"] as? String == "master@10.1.2.3:5050")
        #expect(json["hostname"] as? String == "master-a")
        #expect(json["version"] as? String == "1.12.0")
        let address = try #require(json["address"] as? [String: Any])
        #expect(address["ip"] as? String == "10.1.2.3")
        #expect(address["hostname"] as? String == "master-a")
        #expect((address["port"] as? NSNumber)?.intValue == 5050)
    }

    @Test func detectorsReadTheEncodedNode() throws {
        let address = try MesosMasterAddress(masterInfoJSON: try MasterInfoJSON.encode(self.info))
        #expect(address.host == "10.1.2.3")
        #expect(address.port == 5050)
        #expect(address.id == "m-1")
    }

    @Test func packedIPAloneUnpacksToTheSameAddress() throws {
        var json = try self.object(try MasterInfoJSON.encode(self.info))
        json["address"] = nil
        json["hostname"] = nil
        let data = Array(try JSONSerialization.data(withJSONObject: json))
        let address = try MesosMasterAddress(masterInfoJSON: data)
        #expect(address.hostPort == "10.1.2.3:5050")
        #expect(MasterInfoJSON.host(of: try MasterInfoJSON.decode(data)) == "10.1.2.3")
    }

    @Test func decodesWhatAMesosMasterWrites() throws {
        // As written by Mesos 1.x for a master on 127.0.0.1:5050 (ip 16777343 = 127.0.0.1 packed).
        let mesos = """
            {"address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"hostname":"localhost",\
            "id":"4f9e-1","ip":16777343,"pid":"master@127.0.0.1:5050","port":5050,"version":"1.11.0",\
            "capabilities":[{"type":"AGENT_UPDATE"}],"domain":{}}
            """
        let decoded = try MasterInfoJSON.decode(Array(mesos.utf8))
        #expect(decoded.id == "4f9e-1")
        #expect(decoded.port == 5050)
        #expect(decoded.ip == MasterInfo.packIPv4("127.0.0.1"))
        #expect(MasterInfoJSON.host(of: decoded) == "localhost")
    }

    @Test func decodeRoundTripsAndRejectsNonJSON() throws {
        #expect(try MasterInfoJSON.decode(try MasterInfoJSON.encode(self.info)) == self.info)
        #expect(throws: ZooKeeperError.self) { try MasterInfoJSON.decode(Array("not json".utf8)) }
    }

    @Test func registryEntriesRoundTripAndNodeNamesAreOneComponent() throws {
        let entry = AgentRegistryEntry(
            agentInfo: AgentInfo(hostname: "h", port: 5051, resources: Resources(), id: "m-S1"),
            state: .unreachable,
            changedAt: 12.5
        )
        let json = try self.object(try entry.encoded())
        #expect(json["state"] as? String == "UNREACHABLE")
        #expect((json["agent_info"] as? [String: Any])?["hostname"] as? String == "h")
        #expect(try AgentRegistryEntry(data: try entry.encoded()) == entry)
        #expect(AgentRegistryEntry.nodeName("a/b%c") == "a%2Fb%25c")
        #expect(AgentRegistryEntry.nodeName("m-S1") == "m-S1")
    }

    @Test func leadershipRoles() {
        let leadership = MasterLeadership.contending()
        #expect(leadership.role == .following(leader: nil))
        #expect(!leadership.isElected && !leadership.isLeading)
        leadership.follow(self.info)
        #expect(leadership.role == .following(leader: self.info))
        leadership.elected(now: 100)
        #expect(leadership.isElected && !leadership.isLeading)
        leadership.follow(self.info)  // ignored once elected
        if case .electedNotServing = leadership.role {
        } else {
            Issue.record("expected electedNotServing")
        }
        leadership.recovered()
        #expect(leadership.role == .leading)
        leadership.setConnected(false)
        #expect(!leadership.isLeading && leadership.isElected)
        leadership.setConnected(true)
        #expect(leadership.isLeading)
        #expect(leadership.electedTime == 100)
        #expect(MasterLeadership.standalone(now: 1).isLeading)
    }

    @Test func aDaemonThatTrustsACAUsesHTTPSWhateverZooKeeperSays() {
        // The scheme in the election node is not authenticated: whoever can write it must not downgrade a TLS link.
        let plain = MesosMasterAddress(host: "10.0.0.1", port: 5050, scheme: "http")
        #expect(plain.baseURL(requiringTLS: true) == "https://10.0.0.1:5050")
        #expect(plain.baseURL(requiringTLS: false) == "http://10.0.0.1:5050")
        let secure = MesosMasterAddress(host: "::1", port: 5050, scheme: "https")
        #expect(secure.baseURL(requiringTLS: true) == "https://[::1]:5050")
        #expect(secure.baseURL(requiringTLS: false) == "https://[::1]:5050")
    }
}
