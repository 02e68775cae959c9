// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Checks Marathon placement constraints (`[[field, OPERATOR, value?]]`) for one offer against an app's
/// current instances (old versions included, as Marathon does).
public enum ConstraintMatcher {
    /// Where an instance runs: its agent's hostname and attributes.
    public struct Placement: Sendable {
        public var hostname: String
        public var attributes: [Attribute]
        public init(hostname: String, attributes: [Attribute]) {
            self.hostname = hostname
            self.attributes = attributes
        }

        /// The value of a constraint field here: `hostname` or an attribute; `nil` if absent.
        public func value(of field: String) -> String? {
            if field == "hostname" || field == "@hostname" { return self.hostname }
            return self.attributes.first { $0.name == field }?.stringValue
        }
    }

    /// Whether an offer on `candidate` satisfies every constraint, given the placements of the app's instances.
    public static func matches(_ constraints: [[String]], candidate: Placement, placed: [Placement]) -> Bool {
        constraints.allSatisfy { self.matches($0, candidate: candidate, placed: placed) }
    }

    /// Whether one constraint is satisfied.
    public static func matches(_ constraint: [String], candidate: Placement, placed: [Placement]) -> Bool {
        guard constraint.count >= 2 else { return false }
        let field = constraint[0]
        let op = constraint[1].uppercased()
        let parameter = constraint.count > 2 ? constraint[2] : nil
        guard let value = candidate.value(of: field) else {
            // An offer without the field is rejected by every operator except UNLIKE.
            return op == "UNLIKE"
        }
        let placedValues = placed.compactMap { $0.value(of: field) }
        switch op {
        case "UNIQUE":
            return !placedValues.contains(value)
        case "CLUSTER":
            if let parameter, !parameter.isEmpty { return value == parameter }
            return placedValues.first.map { $0 == value } ?? true
        case "GROUP_BY":
            var counts: [String: Int] = [:]
            for placedValue in placedValues { counts[placedValue, default: 0] += 1 }
            let groups = parameter.flatMap(Int.init) ?? 0
            // Even spread: the offer's value must be among the least used; while fewer than `groups` values
            // are in use, only an unused value is acceptable.
            let minimum = counts.count < groups ? 0 : (counts.values.min() ?? 0)
            return counts[value, default: 0] <= minimum
        case "LIKE":
            guard let parameter else { return false }
            return self.fullMatch(value, pattern: parameter)
        case "UNLIKE":
            guard let parameter else { return false }
            return !self.fullMatch(value, pattern: parameter)
        case "MAX_PER":
            guard let limit = parameter.flatMap(Int.init) else { return false }
            return placedValues.filter { $0 == value }.count < limit
        case "IS":
            guard let parameter else { return false }
            if let number = Double(parameter), let offered = Double(value) {
                return Scalar(number) == Scalar(offered)
            }
            return value == parameter
        default:
            return false
        }
    }

    private static func fullMatch(_ value: String, pattern: String) -> Bool {
        guard let regex = ConstraintPattern.regex(pattern) else { return false }
        return ConstraintPattern.fullMatch(value, regex)
    }
}
