// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import RegattaAgent

@Suite struct MasterClientTests {
    @Test func endpointFromMasterFlag() throws {
        #expect(try MasterClient.endpoint(master: "127.0.0.1:5050") == "http://127.0.0.1:5050/api/v1/agent")
        #expect(
            try MasterClient.endpoint(master: "http://master.example:6060/")
                == "http://master.example:6060/api/v1/agent"
        )
        #expect(try MasterClient.endpoint(master: "master.example") == "http://master.example:5050/api/v1/agent")
        #expect(try MasterClient.endpoint(master: "https://host:5050") == "https://host:5050/api/v1/agent")
        // With --tls_ca_file a bare address means https
        #expect(
            try MasterClient.endpoint(master: "127.0.0.1:5050", defaultScheme: "https")
                == "https://127.0.0.1:5050/api/v1/agent"
        )
    }

    @Test func rejectsUnsupportedMasters() {
        for master in ["zk://127.0.0.1:2181/mesos", "", "host:notaport", "host:0", "ftp://host:5050"] {
            let error = #expect(throws: AgentError.self) { try MasterClient.endpoint(master: master) }
            #expect(error?.code == .invalidConfiguration)
        }
    }
}
