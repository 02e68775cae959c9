// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@Suite struct AttributeTests {
    @Test func parsesEveryType() throws {
        // When
        let attributes = try Attribute.parseList("rack:a;zone:1;ports:[1-2];tags:{x,y}")
        // Then
        #expect(
            attributes == [
                Attribute(name: "rack", value: .text("a")),
                Attribute(name: "zone", value: .scalar(Scalar(1))),
                Attribute(name: "ports", value: .ranges(RangeSet([ValueRange(begin: 1, end: 2)]))),
                Attribute(name: "tags", value: .set(["x", "y"])),
            ]
        )
        #expect(attributes.map(\.stringValue) == ["a", "1", "[1-2]", "{x,y}"])
    }

    @Test func keepsTextWithColonsAndTrimsWhitespace() throws {
        let attributes = try Attribute.parseList(" host : db-1:primary ; weight: 0.50 ;")
        #expect(
            attributes == [
                Attribute(name: "host", value: .text("db-1:primary")),
                Attribute(name: "weight", value: .scalar(Scalar(0.5))),
            ]
        )
        #expect(attributes[1].stringValue == "0.5")
        #expect(try Attribute.parseList("").isEmpty)
    }

    @Test(arguments: ["rack", ":a", "rack:", "ports:[2-1]", "ports:[1-2", "tags:{x", "slots:[a-b]"])
    func rejectsBadEntries(text: String) {
        let error = #expect(throws: CoreError.self) { try Attribute.parseList("zone:1;\(text)") }
        #expect(error?.code == .invalidAttributes)
        #expect(error?.message.contains("Attribute '\(text)'") == true, "\(error?.message ?? "")")
    }

    @Test func jsonRoundTripKeepsTypes() throws {
        let attributes = try Attribute.parseList("rack:a;zone:1.5;ports:[1-2,4-4];tags:{y,x}")
        let encoded = try MesosJSON.encode(attributes)
        #expect(try MesosJSON.decode([Attribute].self, from: encoded) == attributes)
        let objects = try #require(try JSONSerialization.jsonObject(with: encoded) as? [[String: Any]])
        #expect(objects.map { $0["type"] as? String } == ["TEXT", "SCALAR", "RANGES", "SET"])
    }

    @Test func rejectsAnUnknownJSONType() {
        let json = #"[{"name":"rack","type":"COLOR","text":{"value":"a"}}]"#
        let error = #expect(throws: CoreError.self) { try MesosJSON.decode([Attribute].self, from: Data(json.utf8)) }
        #expect(error?.message.contains("COLOR") == true)
    }
}
