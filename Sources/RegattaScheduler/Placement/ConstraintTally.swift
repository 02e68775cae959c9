// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// An app's placement constraints parsed once, with counts of the values its placed instances have for each
/// constrained field, kept up to date as instances are placed: checking an offer costs a few dictionary lookups per
/// constraint, whatever the number of instances, and allocates nothing.
///
/// Decides exactly as ``ConstraintMatcher/matches(_:candidate:placed:)`` does for the same placements added in the
/// same order (its tests compare both on random inputs). Build one per app and offer round from the placements of
/// the app's instances, check offers with ``matches(_:)`` and ``add(_:)`` each placement decided.
public struct ConstraintTally: Sendable {
    /// What one constraint checks, parsed from `[field, OPERATOR, parameter?]`.
    enum Rule: Sendable {
        /// Fewer than two elements: nothing matches.
        case invalid
        /// An operator Regatta does not know: nothing matches.
        case unknown
        case unique
        /// `CLUSTER` with a value: the offer's value must equal it.
        case clusterOn(String)
        /// `CLUSTER` without a value: the offer's value must equal the first placed instance's.
        case clusterWithFirst
        /// `GROUP_BY` with the number of groups (`0` when not given).
        case groupBy(groups: Int)
        /// `LIKE`; `nil` when the parameter is missing or not a valid regular expression.
        case like(NSRegularExpression?)
        /// `UNLIKE`; `nil` when the parameter is missing (nothing matches) or the pattern is invalid (everything
        /// present matches), told apart by `missing`.
        case unlike(NSRegularExpression?, missing: Bool)
        /// `MAX_PER` with its limit; `nil` when the parameter is missing or not a number.
        case maxPer(Int?)
        /// `IS` with its parameter (and the parameter as a number, if it is one); `nil` when missing.
        case `is`(String?, number: Double?)
    }

    /// Counts of the values placed instances have for one field.
    struct FieldCounts: Sendable {
        /// Value → placed instances with it.
        var counts: [String: Int] = [:]
        /// The value of the first placement added that has the field (for `CLUSTER` without a value).
        var first: String?
        /// How many distinct values have each count (count → values), for the smallest count in O(1).
        var valuesWithCount: [Int: Int] = [:]
        /// The smallest count of any value; `0` while there are none.
        var minimum = 0

        mutating func add(_ value: String) {
            if self.first == nil { self.first = value }
            let old = self.counts[value, default: 0]
            let new = old + 1
            self.counts[value] = new
            if old > 0 { self.valuesWithCount[old, default: 0] -= 1 }
            self.valuesWithCount[new, default: 0] += 1
            if old == 0 {
                self.minimum = 1
            } else if old == self.minimum && self.valuesWithCount[old] == 0 {
                // No value has the old minimum any more; this one has one more, and every other at least that.
                self.minimum = new
            }
        }
    }

    /// The constrained fields, each once.
    private(set) var fields: [String] = []
    /// Each constraint's rule and the index of its field in ``fields``.
    private(set) var rules: [(rule: Rule, field: Int)] = []
    private var tallies: [FieldCounts] = []

    /// Parses `constraints` (Marathon's `[[field, OPERATOR, value?]]`); no instance is placed yet.
    public init(constraints: [[String]]) {
        for constraint in constraints {
            let field = constraint.first ?? ""
            let index: Int
            if let existing = self.fields.firstIndex(of: field) {
                index = existing
            } else {
                index = self.fields.count
                self.fields.append(field)
                self.tallies.append(FieldCounts())
            }
            self.rules.append((Self.rule(constraint), index))
        }
    }

    /// Parses constraints and counts the values of `placed`, in order.
    public init(constraints: [[String]], placed: some Sequence<ConstraintMatcher.Placement>) {
        self.init(constraints: constraints)
        for placement in placed { self.add(placement) }
    }

    /// Whether there are no constraints (every offer matches).
    public var isEmpty: Bool { self.rules.isEmpty }

    /// Counts a placed instance.
    public mutating func add(_ placement: ConstraintMatcher.Placement) {
        for index in self.fields.indices {
            if let value = placement.value(of: self.fields[index]) { self.tallies[index].add(value) }
        }
    }

    /// Whether an offer on `candidate` satisfies every constraint, given the placements added so far.
    public func matches(_ candidate: ConstraintMatcher.Placement) -> Bool {
        for (rule, field) in self.rules
        where !Self.matches(rule, candidate.value(of: self.fields[field]), self.tallies[field]) {
            return false
        }
        return true
    }

    private static func matches(_ rule: Rule, _ value: String?, _ tally: FieldCounts) -> Bool {
        switch rule {
        case .invalid, .unknown:
            return false
        case .unlike(let regex, let missing):
            // An offer without the field is rejected by every operator except UNLIKE.
            guard let value else { return true }
            if missing { return false }
            guard let regex else { return true }
            return !Self.fullMatch(value, regex)
        default:
            break
        }
        guard let value else { return false }
        switch rule {
        case .invalid, .unknown, .unlike:
            return false  // handled above
        case .unique:
            return tally.counts[value] == nil
        case .clusterOn(let parameter):
            return value == parameter
        case .clusterWithFirst:
            return tally.first.map { $0 == value } ?? true
        case .groupBy(let groups):
            // Even spread: the offer's value must be among the least used; while fewer than `groups` values
            // are in use, only an unused value is acceptable.
            let minimum = tally.counts.count < groups ? 0 : tally.minimum
            return tally.counts[value, default: 0] <= minimum
        case .like(let regex):
            guard let regex else { return false }
            return Self.fullMatch(value, regex)
        case .maxPer(let limit):
            guard let limit else { return false }
            return tally.counts[value, default: 0] < limit
        case .is(let parameter, let number):
            guard let parameter else { return false }
            if let number, let offered = Double(value) { return Scalar(number) == Scalar(offered) }
            return value == parameter
        }
    }

    private static func rule(_ constraint: [String]) -> Rule {
        guard constraint.count >= 2 else { return .invalid }
        let parameter = constraint.count > 2 ? constraint[2] : nil
        switch constraint[1].uppercased() {
        case "UNIQUE":
            return .unique
        case "CLUSTER":
            if let parameter, !parameter.isEmpty { return .clusterOn(parameter) }
            return .clusterWithFirst
        case "GROUP_BY":
            return .groupBy(groups: parameter.flatMap(Int.init) ?? 0)
        case "LIKE":
            return .like(parameter.flatMap(Self.regex))
        case "UNLIKE":
            return .unlike(parameter.flatMap(Self.regex), missing: parameter == nil)
        case "MAX_PER":
            return .maxPer(parameter.flatMap(Int.init))
        case "IS":
            return .is(parameter, number: parameter.flatMap(Double.init))
        default:
            return .unknown
        }
    }

    /// The pattern anchored at both ends, as Marathon matches LIKE and UNLIKE; `nil` if it is not valid.
    private static func regex(_ pattern: String) -> NSRegularExpression? {
        ConstraintPattern.regex(pattern)
    }

    private static func fullMatch(_ value: String, _ regex: NSRegularExpression) -> Bool {
        ConstraintPattern.fullMatch(value, regex)
    }
}
