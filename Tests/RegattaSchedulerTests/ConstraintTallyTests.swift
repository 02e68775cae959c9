// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// `ConstraintTally` (constraints parsed once, placed values counted as they are added) decides exactly as
/// `ConstraintMatcher.matches` (which rescans the placements on every check).
@Suite struct ConstraintTallyTests {
    typealias Placement = ConstraintMatcher.Placement

    static func place(_ host: String, _ attributes: [(String, Attribute.Value)] = []) -> Placement {
        Placement(hostname: host, attributes: attributes.map { Attribute(name: $0.0, value: $0.1) })
    }

    @Test func agreesWithTheMatcherOnRandomConstraintsAndPlacements() {
        var checks = 0
        var accepted = 0
        for seed: UInt64 in [1, 42, 2024, 7_777] {
            var generator = SeededGenerator(seed: seed)
            for _ in 0..<150 {
                let constraints = (0..<Int.random(in: 1...2, using: &generator)).map { _ in
                    Self.randomConstraint(using: &generator)
                }
                var tally = ConstraintTally(constraints: constraints)
                var placed: [Placement] = []
                for _ in 0..<25 {
                    let candidate = Self.randomPlacement(using: &generator)
                    let expected = ConstraintMatcher.matches(constraints, candidate: candidate, placed: placed)
                    #expect(
                        tally.matches(candidate) == expected,
                        "constraints \(constraints), candidate \(candidate), placed \(placed)"
                    )
                    checks += 1
                    if expected { accepted += 1 }
                    // Place accepted offers mostly (as the scheduler does), and some refused ones (loaded instances).
                    if expected || Int.random(in: 0..<4, using: &generator) == 0 {
                        tally.add(candidate)
                        placed.append(candidate)
                    }
                }
                // Built from the placements at once, it decides the same as built step by step.
                let rebuilt = ConstraintTally(constraints: constraints, placed: placed)
                for _ in 0..<5 {
                    let candidate = Self.randomPlacement(using: &generator)
                    #expect(rebuilt.matches(candidate) == tally.matches(candidate))
                }
            }
        }
        // Both outcomes are exercised a fair number of times.
        #expect(checks == 4 * 150 * 25)
        #expect(accepted > checks / 5 && accepted < checks * 4 / 5, "accepted \(accepted) of \(checks)")
    }

    @Test func groupByKeepsRacksEven() {
        // Given: rack a used twice, b once, c once
        var tally = ConstraintTally(constraints: [["rack", "GROUP_BY"]])
        for rack in ["a", "a", "b", "c"] { tally.add(Self.place("h-\(rack)", [("rack", .text(rack))])) }

        // Then: only the least used racks (count 1) are accepted, and a new rack (count 0) is
        #expect(!tally.matches(Self.place("x", [("rack", .text("a"))])))
        #expect(tally.matches(Self.place("x", [("rack", .text("b"))])))
        #expect(tally.matches(Self.place("x", [("rack", .text("d"))])))
        #expect(!tally.matches(Self.place("x")), "an offer without the field is refused")

        // When b and c catch up, a is among the least used again
        tally.add(Self.place("h", [("rack", .text("b"))]))
        #expect(!tally.matches(Self.place("x", [("rack", .text("a"))])))
        tally.add(Self.place("h", [("rack", .text("c"))]))
        #expect(tally.matches(Self.place("x", [("rack", .text("a"))])))
    }

    @Test func groupByWithGroupsWantsUnusedValuesUntilThatManyAreUsed() {
        var tally = ConstraintTally(constraints: [["rack", "group_by", "3"]])
        tally.add(Self.place("h1", [("rack", .text("a"))]))
        tally.add(Self.place("h2", [("rack", .text("b"))]))
        // Two of three groups in use: only an unused rack is acceptable.
        #expect(!tally.matches(Self.place("x", [("rack", .text("a"))])))
        #expect(tally.matches(Self.place("x", [("rack", .text("c"))])))
        tally.add(Self.place("h3", [("rack", .text("c"))]))
        #expect(tally.matches(Self.place("x", [("rack", .text("a"))])))
    }

    @Test func uniqueMaxPerClusterLikeAndIs() {
        var tally = ConstraintTally(constraints: [
            ["hostname", "UNIQUE"], ["zone", "MAX_PER", "2"], ["zone", "CLUSTER"], ["hostname", "LIKE", "h[0-9]+"],
            ["cores", "IS", "4"],
        ])
        let four = Attribute.Value.scalar(Scalar(4.0))
        #expect(tally.matches(Self.place("h1", [("zone", .text("z1")), ("cores", four)])))
        tally.add(Self.place("h1", [("zone", .text("z1")), ("cores", four)]))
        #expect(!tally.matches(Self.place("h1", [("zone", .text("z1")), ("cores", four)])), "UNIQUE hostname")
        #expect(
            !tally.matches(Self.place("h2", [("zone", .text("z2")), ("cores", four)])),
            "CLUSTER on the first zone"
        )
        #expect(!tally.matches(Self.place("web", [("zone", .text("z1")), ("cores", four)])), "LIKE h[0-9]+")
        #expect(!tally.matches(Self.place("h2", [("zone", .text("z1")), ("cores", .scalar(Scalar(8.0)))])), "IS 4")
        #expect(
            tally.matches(Self.place("h2", [("zone", .text("z1")), ("cores", .text("4.0"))])),
            "IS compares numbers"
        )
        tally.add(Self.place("h2", [("zone", .text("z1")), ("cores", four)]))
        #expect(!tally.matches(Self.place("h3", [("zone", .text("z1")), ("cores", four)])), "MAX_PER 2 per zone")
    }

    @Test func malformedConstraintsDecideAsTheMatcher() {
        let candidate = Self.place("h1", [("rack", .text("a"))])
        let cases: [([String], Bool)] = [
            (["hostname"], false),  // no operator
            (["hostname", "NEAR"], false),  // unknown operator
            (["rack", "LIKE"], false),  // no pattern
            (["rack", "UNLIKE"], false),
            (["rack", "LIKE", "("], false),  // invalid pattern
            (["rack", "UNLIKE", "("], true),
            (["zone", "UNLIKE", "x"], true),  // field absent: only UNLIKE accepts
            (["zone", "UNIQUE"], false),
            (["rack", "MAX_PER", "many"], false),
            (["rack", "IS"], false),
        ]
        for (constraint, expected) in cases {
            #expect(
                ConstraintMatcher.matches(constraint, candidate: candidate, placed: []) == expected,
                "\(constraint)"
            )
            #expect(ConstraintTally(constraints: [constraint]).matches(candidate) == expected, "\(constraint)")
        }
        #expect(ConstraintTally(constraints: []).isEmpty)
        #expect(ConstraintTally(constraints: []).matches(candidate))
    }

    // MARK: Random inputs

    static let fields = ["hostname", "@hostname", "rack", "zone", "cores", "absent"]
    static let operators = [
        "UNIQUE", "unique", "CLUSTER", "GROUP_BY", "group_by", "LIKE", "UNLIKE", "MAX_PER", "IS", "NEAR",
    ]
    static let parameters: [String?] = [nil, "", "2", "3", "r1", "z[12]", "h.*", "(", "4", "4.0", "x"]

    /// Constraints an app would use; most random constraints are taken from here, so offers get accepted often.
    static let usual: [[String]] = [
        ["hostname", "UNIQUE"], ["rack", "GROUP_BY"], ["rack", "GROUP_BY", "3"], ["zone", "GROUP_BY", "2"],
        ["rack", "MAX_PER", "3"], ["zone", "CLUSTER"], ["rack", "LIKE", "r[12]"], ["zone", "UNLIKE", "z1"],
        ["cores", "IS", "4"],
    ]

    static func randomConstraint(using generator: inout SeededGenerator) -> [String] {
        if Int.random(in: 0..<3, using: &generator) > 0 { return Self.usual.randomElement(using: &generator)! }
        let field = Self.fields.randomElement(using: &generator)!
        if Int.random(in: 0..<30, using: &generator) == 0 { return [field] }
        let op = Self.operators.randomElement(using: &generator)!
        guard let parameter = Self.parameters.randomElement(using: &generator)! else { return [field, op] }
        return [field, op, parameter]
    }

    static func randomPlacement(using generator: inout SeededGenerator) -> Placement {
        var attributes: [(String, Attribute.Value)] = []
        if Int.random(in: 0..<6, using: &generator) > 0 {
            attributes.append(("rack", .text("r\(Int.random(in: 1...3, using: &generator))")))
        }
        if Bool.random(using: &generator) {
            attributes.append(("zone", .text("z\(Int.random(in: 1...4, using: &generator))")))
        }
        if Bool.random(using: &generator) {
            let cores: Attribute.Value =
                Bool.random(using: &generator)
                ? .scalar(Scalar(Double(Int.random(in: 2...4, using: &generator))))
                : .text(["4", "4.0", "four"].randomElement(using: &generator)!)
            attributes.append(("cores", cores))
        }
        return Self.place("h\(Int.random(in: 1...12, using: &generator))", attributes)
    }
}
