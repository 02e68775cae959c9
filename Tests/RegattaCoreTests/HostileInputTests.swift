// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

/// Regressions: input that used to trap or be misread must now give a clear error.
@Suite struct HostileInputTests {
    @Test func jsonResourcesWithRangesParse() throws {
        let resources = try Resources.parse(
            #"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31005}]}}]"#
        )
        #expect(resources.ranges("ports").count == 6)
    }

    @Test(arguments: ["cpus:1e20", "mem:1e300"])
    func hugeTextAmountsAreRefused(_ text: String) {
        #expect(throws: CoreError.self) { try Resources.parse(text) }
    }

    @Test func hugeJSONAmountIsRefused() {
        let json = Data(#"{"name":"cpus","type":"SCALAR","scalar":{"value":1e300}}"#.utf8)
        #expect(throws: (any Error).self) { try MesosJSON.decode(Resource.self, from: json) }
    }

    @Test func scalarClampsInsteadOfTrapping() {
        #expect(Scalar(1e300).value == Scalar.maximumValue)
        #expect(Scalar(.nan) == .zero)
    }

    @Test func hugeDurationsAreRefused() {
        #expect(throws: CoreError.self) { try MesosDuration.parse("99999999999secs") }
        #expect(throws: CoreError.self) { try MesosDuration.parse("1e30") }
    }

    @Test func invertedJSONRangeIsRefused() {
        let json = Data(#"{"begin":5,"end":3}"#.utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ValueRange.self, from: json) }
    }

    @Test func fullRangeCountSaturates() throws {
        let resources = try Resources.parse("ports:[0-18446744073709551615]")
        #expect(resources.ranges("ports").count == UInt64.max)
    }

    @Test func hugeAttributeNumberStaysText() throws {
        let attributes = try Attribute.parseList("zone:1e30")
        #expect(attributes.first?.value == .text("1e30"))
    }
}

extension HostileInputTests {
    @Test func repeatedHugeAmountsAreRefusedNotSummedIntoATrap() throws {
        // Given a TaskInfo-style resource list that repeats cpus 1e12 (Fuzz/Crashes/codec/scalar-sum-overflow.json)
        let one = Resource.scalar("cpus", 1e12)
        // When it is read / Then it is refused with a message naming the resource
        #expect(throws: CoreError.self) { try Resources(Array(repeating: one, count: 10_000)) }
        // Accounting sums saturate instead of trapping.
        #expect((Scalar(milli: .max) + Scalar(milli: 1)).milli == .max)
        #expect((Scalar(milli: .min) - Scalar(milli: 1)).milli == .min)
    }
}
