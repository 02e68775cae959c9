// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaTestKit
import Testing

@Suite struct ResourcesTests {
    private func bag(_ resources: Resource...) throws -> Resources {
        try Resources(resources)
    }

    @Test func addsSameNameAndRole() throws {
        // Given
        var resources = try bag(.scalar("cpus", 1.5), .scalar("mem", 128))
        // When
        try resources.add(.scalar("cpus", 0.5))
        try resources.add(.ranges("ports", RangeSet([ValueRange(begin: 31000, end: 31001)])))
        try resources.add(.ranges("ports", RangeSet([ValueRange(begin: 31002, end: 31002)])))
        try resources.add(Resource(name: "zones", value: .set(["a"])))
        try resources.add(Resource(name: "zones", value: .set(["b"])))
        // Then
        #expect(resources.scalar("cpus") == Scalar(2))
        #expect(resources.ranges("ports") == RangeSet([ValueRange(begin: 31000, end: 31002)]))
        #expect(resources.description == "cpus:2;mem:128;ports:[31000-31002];zones:{a,b}")
    }

    @Test func rolesAreSeparateEntries() throws {
        // Given
        let resources = try Resources.parse("cpus:2;cpus(web):2")
        // Then
        #expect(resources.list.count == 2)
        #expect(resources.list.map(\.role) == ["*", "web"])
        #expect(resources.scalar("cpus") == Scalar(4))
        #expect(!resources.contains(try Resources.parse("cpus:3")))
        #expect(resources.contains(try Resources.parse("cpus:2;cpus(web):2")))
        #expect(!resources.contains(try Resources.parse("cpus(db):1")))
    }

    @Test func initializerSumsDuplicates() throws {
        let resources = try bag(.scalar("cpus", 1), .scalar("cpus", 0.25), .scalar("cpus", 1, role: "web"))
        #expect(resources.list == [.scalar("cpus", 1.25), .scalar("cpus", 1, role: "web")])
    }

    @Test func subtractingNeverGoesNegative() throws {
        // Given
        let total = try Resources.parse("cpus:1;mem:256")
        // When
        let left = total - (try Resources.parse("cpus:2;mem:56"))
        // Then
        #expect(left.scalar("cpus") == .zero)
        #expect(left.scalar("mem") == Scalar(200))
        #expect(left.list.map(\.name) == ["mem"])
        #expect(left.description == "mem:200")
    }

    @Test func subtractingRespectsRoles() throws {
        let total = try Resources.parse("cpus:2;cpus(web):2;ports:[31000-31010]")
        let left = total - (try Resources.parse("cpus(web):0.5;ports:[31000-31000,31005-31005];mem:10"))
        #expect(left == (try Resources.parse("cpus:2;cpus(web):1.5;ports:[31001-31004,31006-31010]")))
    }

    @Test func subtractingEverythingLeavesAnEmptyBag() throws {
        let total = try Resources.parse("cpus:0.1;ports:[1-2];zones:{a}")
        var left = total
        left -= total
        #expect(left.isEmpty)
        #expect(left.list.isEmpty)
        #expect(left == Resources())
        #expect(left.description == "")
    }

    @Test func subtractingAMismatchedTypeIsIgnored() throws {
        let total = try Resources.parse("ports:[1-5]")
        var scalarPorts = Resources()
        try scalarPorts.add(.scalar("ports", 1))
        #expect(total - scalarPorts == total)
    }

    @Test func additionOperatorMergesBags() throws {
        var a = try Resources.parse("cpus:0.1;ports:[1-2]")
        let b = try Resources.parse("cpus:0.2;ports:[3-4];mem:5")
        #expect(a + b == (try Resources.parse("cpus:0.3;mem:5;ports:[1-4]")))
        a += b
        #expect(a.scalar("cpus") == Scalar(0.3))
    }

    @Test func containsChecksEveryKind() throws {
        let total = try Resources.parse("cpus:4;mem:1024;ports:[31000-32000];zones:{a,b}")
        #expect(total.contains(try Resources.parse("cpus:4;mem:1024")))
        #expect(total.contains(try Resources.parse("ports:[31000-31000,31500-31600];zones:{b}")))
        #expect(total.contains(Resources()))
        #expect(total.contains(try Resources.parse("cpus:0;gpus:0")))
        #expect(!total.contains(try Resources.parse("cpus:4.001")))
        #expect(!total.contains(try Resources.parse("ports:[30999-31000]")))
        #expect(!total.contains(try Resources.parse("zones:{c}")))
        #expect(!total.contains(try Resources.parse("gpus:1")))
    }

    @Test func allocatableIncludesUnreservedAndOwnRole() throws {
        // Given
        let total = try Resources.parse("cpus:4;cpus(web):2;cpus(db):8;mem(web):64")
        // When
        let forWeb = total.allocatable(to: "web")
        // Then
        #expect(forWeb == (try Resources.parse("cpus:4;cpus(web):2;mem(web):64")))
        #expect(total.allocatable(to: "other") == (try Resources.parse("cpus:4")))
        #expect(total.allocatable(to: "*") == (try Resources.parse("cpus:4")))
    }

    @Test func allocatedStampsTheAllocationRole() throws {
        let resources = try Resources.parse("cpus:1;mem(web):2")
        let stamped = resources.allocated(to: "web")
        #expect(stamped.count == 2)
        #expect(stamped.allSatisfy { $0.allocationRole == "web" })
        // Arithmetic ignores the allocation role, so offered resources still subtract from totals.
        #expect(try Resources(stamped) == resources)
        #expect((try Resources(stamped)) - resources == Resources())
    }

    @Test func isEmptyIgnoresZeroEntries() throws {
        #expect(Resources().isEmpty)
        #expect(try bag(.scalar("cpus", 0)).isEmpty)
        #expect(try bag(.ranges("ports", RangeSet())).isEmpty)
        #expect(try bag(.scalar("cpus", 0)).list.isEmpty)
        #expect(try !bag(.scalar("cpus", 0.001)).isEmpty)
    }

    @Test func typeMismatchThrows() throws {
        var resources = try Resources.parse("ports:[1-2]")
        let error = #expect(throws: CoreError.self) {
            try resources.add(.scalar("ports", 3))
        }
        #expect(error?.code == .invalidResources)
        #expect(error?.message.contains("'ports'") == true)
        #expect(error?.message.contains("RANGES") == true)
        #expect(error?.message.contains("SCALAR") == true)

        let parseError = #expect(throws: CoreError.self) { try Resources.parse("ports:[1-2];ports:3") }
        #expect(parseError?.code == .invalidResources)
    }

    @Test func equalBagsHashEqually() throws {
        let a = try Resources.parse("mem:128;cpus:1;ports:[2-3,1-1]")
        let b = try Resources.parse("cpus:1;ports:[1-3];mem:128;disk:0")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
    }

    @Test(arguments: [
        "cpus:4;mem:8192;disk:10240;ports:[31000-32000]",
        "cpus:0.125;cpus(web):2;mem(web):64.5",
        "ports:[31000-32000, 33000-33010];zones:{a,b,c}",
        "gpus(ml/team):1;cpus(*):1",
    ])
    func descriptionRoundTripsThroughParse(text: String) throws {
        let resources = try Resources.parse(text)
        let reparsed = try Resources.parse(resources.description)
        #expect(reparsed == resources)
        #expect(reparsed.description == resources.description)
    }

    @Test func describesRolesAfterTheName() throws {
        let resources = try Resources.parse("mem:64;cpus(web):2;cpus:1")
        #expect(resources.description == "cpus:1;cpus(web):2;mem:64")
    }

    @Test func codableRoundTripKeepsRoles() throws {
        // Given
        let resources = try Resources.parse("cpus:1.5;cpus(web):2;ports:[31000-31005];zones:{a,b}")
        // When
        let data = try MesosJSON.encode(resources)
        let decoded = try MesosJSON.decode(Resources.self, from: data)
        // Then
        #expect(decoded == resources)
        let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let web = try #require(entries.first { ($0["role"] as? String) == "web" })
        let reservations = try #require(web["reservations"] as? [[String: Any]])
        #expect(reservations.first?["role"] as? String == "web")
        let ports = try #require(entries.first { ($0["name"] as? String) == "ports" })
        let range = (ports["ranges"] as? [String: Any])?["range"] as? [[String: Any]]
        #expect(range?.first?["begin"] as? Int == 31000)
        #expect(range?.first?["end"] as? Int == 31005)
    }

    @Test func decodingRejectsMixedTypesForOneName() throws {
        let json =
            #"[{"name":"ports","type":"SCALAR","scalar":{"value":1}},"#
            + #"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}]"#
        let error = #expect(throws: CoreError.self) {
            try MesosJSON.decode(Resources.self, from: Data(json.utf8))
        }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message.contains("'ports'") == true)
    }
}

/// The sorted-array arithmetic against a plain model: per (name, role), scalars add and never drop below zero,
/// ranges union and subtract, on random bags with shared and distinct keys.
@Suite struct ResourcesArithmeticModelTests {
    private struct Model: Equatable {
        var scalars: [String: Int64] = [:]  // "name|role" → milli
        var ranges: [String: Set<UInt64>] = [:]

        init(_ resources: Resources) {
            for resource in resources.list {
                let key = "\(resource.name)|\(resource.role)"
                switch resource.value {
                case .scalar(let scalar): self.scalars[key] = scalar.milli
                case .ranges(let set):
                    self.ranges[key] = Set(set.ranges.flatMap { Array($0.begin...$0.end) })
                case .set: break
                }
            }
        }
    }

    private static func randomBag(_ generator: inout SeededGenerator) throws -> Resources {
        var list: [Resource] = []
        for name in ["cpus", "disk", "mem"] where generator.next() % 4 != 0 {
            let role = generator.next() % 3 == 0 ? "web" : "*"
            list.append(Resource(name: name, value: .scalar(Scalar(milli: Int64(generator.next() % 5000))), role: role))
        }
        if generator.next() % 2 == 0 {
            let begin = 31000 + generator.next() % 20
            list.append(
                Resource(
                    name: "ports",
                    value: .ranges(RangeSet([ValueRange(begin: begin, end: begin + generator.next() % 5)]))
                )
            )
        }
        return try Resources(list)
    }

    @Test(arguments: [1, 7, 99, 2024])
    func additionAndSubtractionMatchAPlainModel(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let a = try Self.randomBag(&generator)
            let b = try Self.randomBag(&generator)
            var sum = a
            sum += b
            var expected = Model(a)
            let mb = Model(b)
            for (key, value) in mb.scalars { expected.scalars[key, default: 0] += value }
            for (key, value) in mb.ranges { expected.ranges[key, default: []].formUnion(value) }
            expected.scalars = expected.scalars.filter { $0.value > 0 }
            #expect(Model(sum) == expected)
            #expect(sum.contains(a) && sum.contains(b))
            var difference = sum
            difference -= b
            #expect(difference.contains(a) || !Model(a).ranges.isEmpty)
            var again = difference
            again += b
            #expect(again.contains(b))
            #expect(a + Resources() == a && Resources() + a == a)
        }
    }
}
