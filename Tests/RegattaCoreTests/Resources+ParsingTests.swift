// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@Suite struct ResourcesParsingTests {
    @Test func parsesTheAgentDefaultForm() throws {
        // When
        let resources = try Resources.parse("cpus:4;mem:8192;disk:10240;ports:[31000-32000]")
        // Then
        #expect(resources.scalar("cpus") == Scalar(4))
        #expect(resources.scalar("mem") == Scalar(8192))
        #expect(resources.scalar("disk") == Scalar(10240))
        #expect(resources.ranges("ports") == RangeSet([ValueRange(begin: 31000, end: 32000)]))
        #expect(resources.list.allSatisfy { $0.role == "*" })
        #expect(resources.list.map(\.name) == ["cpus", "disk", "mem", "ports"])
    }

    @Test func parsesRoles() throws {
        let resources = try Resources.parse("cpus(web):2;mem(web):512;disk(ml-team_1.x):1")
        #expect(
            resources.list == [
                .scalar("cpus", 2, role: "web"), .scalar("disk", 1, role: "ml-team_1.x"),
                .scalar("mem", 512, role: "web"),
            ]
        )
        #expect(try Resources.parse("cpus(*):1") == (try Resources.parse("cpus:1")))
    }

    @Test func parsesSetsAndManyRanges() throws {
        let resources = try Resources.parse("zones:{a, b ,c};ports:[1-2,5-6, 3-4]")
        #expect(resources.list.first { $0.name == "zones" }?.value == .set(["a", "b", "c"]))
        #expect(resources.ranges("ports") == RangeSet([ValueRange(begin: 1, end: 6)]))
        #expect(try Resources.parse("zones:{}").isEmpty)
        #expect(try Resources.parse("ports:[]").isEmpty)
    }

    @Test func toleratesWhitespaceAndEmptyEntries() throws {
        let resources = try Resources.parse("  cpus : 4 ; mem:8 ;; ports : [ 1 - 2 ] ;\n")
        #expect(resources == (try Resources.parse("cpus:4;mem:8;ports:[1-2]")))
        #expect(try Resources.parse("").isEmpty)
        #expect(try Resources.parse(" ; ").isEmpty)
    }

    @Test func parsesFractionsToThousandths() throws {
        let resources = try Resources.parse("cpus:0.1;mem:0.0004")
        #expect(resources.scalar("cpus").milli == 100)
        #expect(resources.scalar("mem") == .zero)
    }

    @Test func parsesTheJSONArrayForm() throws {
        // Given
        let json = #"[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]"#
        // When
        let resources = try Resources.parse(json)
        // Then
        #expect(resources == (try Resources.parse("cpus:2")))
    }

    @Test func parsesJSONWithRolesAndReservations() throws {
        let json = """
            [
              {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}, "role": "web"},
              {"name": "mem", "type": "SCALAR", "scalar": {"value": 64},
               "reservations": [{"type": "STATIC", "role": "db"}]},
              {"name": "zones", "type": "SET", "set": {"item": ["a", "b"]}}
            ]
            """
        let resources = try Resources.parse(json)
        #expect(resources == (try Resources.parse("cpus(web):2;mem(db):64;zones:{a,b}")))
    }

    @Test(arguments: [
        ("cpus:-1", "cpus:-1"),
        ("ports:[5-3]", "ports:[5-3]"),
        ("cpus:abc", "cpus:abc"),
        ("cpus", "cpus"),
        ("ports:[1-2", "ports:[1-2"),
        ("cpus(web:2", "cpus(web:2"),
        (#"[{"name":"cpus","type":"BOGUS"}]"#, "cpus"),
        ("mem:1;cpus:nan", "cpus:nan"),
        ("cpus:inf", "cpus:inf"),
        ("ports:[a-b]", "ports:[a-b]"),
        ("ports:[1-2-3]", "ports:[1-2-3]"),
        ("ports:[-1-5]", "ports:[-1-5]"),
        (":4", ":4"),
        ("cpus():2", "cpus():2"),
        ("cp us:2", "cp us:2"),
        ("zones:{a,b", "zones:{a,b"),
        (#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]"#, "cpus"),
        (#"[{"name":"","type":"SCALAR","scalar":{"value":1}}]"#, "name"),
        (#"[{"name":"cpus","type":"SCALAR""#, "JSON"),
    ])
    func rejectsBadInputNamingTheEntry(text: String, named: String) {
        let error = #expect(throws: CoreError.self) {
            try Resources.parse(text)
        }
        #expect(error?.code == .invalidResources)
        #expect(error?.message.contains(named) == true, "\(error?.message ?? "no error")")
    }

    @Test func negativeAmountMessageSaysWhatIsAccepted() {
        let error = #expect(throws: CoreError.self) { try Resources.parse("cpus:-1") }
        #expect(error?.message == "Resource 'cpus:-1' is negative; amounts must be >= 0.")
    }

    @Test func reversedRangeMessageSuggestsTheFix() {
        let error = #expect(throws: CoreError.self) { try Resources.parse("ports:[5-3]") }
        #expect(error?.message.contains("'3-5'") == true)
    }
}
