// SPDX-License-Identifier: Apache-2.0
import Foundation

extension AppValidator {
    static let constraintOperators = ["UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"]

    static func validateConstraints(_ constraints: [[String]], into violations: inout ViolationCollector) {
        for (index, constraint) in constraints.enumerated() {
            let path = "/constraints/\(index)"
            guard (2...3).contains(constraint.count) else {
                violations.add(path, "must have 2 or 3 elements: [field, operator] or [field, operator, value]")
                continue
            }
            if constraint[0].trimmingCharacters(in: .whitespaces).isEmpty {
                violations.add(path, "field must not be empty; use hostname or an agent attribute name")
            }
            let op = constraint[1]
            let value = constraint.count == 3 ? constraint[2] : nil
            switch op {
            case "UNIQUE":
                violations.require(value == nil, path, "UNIQUE takes no value; remove the third element")
            case "CLUSTER":
                violations.require(
                    value.map { !$0.isEmpty } ?? true,
                    path,
                    "CLUSTER value must not be empty; remove it or give the value to match"
                )
            case "GROUP_BY":
                if let value {
                    violations.require(
                        self.isPositiveInteger(value),
                        path,
                        "GROUP_BY value '\(value)' must be a positive integer (the number of groups), or leave it out"
                    )
                }
            case "LIKE", "UNLIKE":
                if let value {
                    if value.count > ConstraintPattern.maximumLength {
                        violations.add(
                            path,
                            "\(op) pattern must be at most \(ConstraintPattern.maximumLength) characters"
                        )
                    } else {
                        violations.require(
                            (try? NSRegularExpression(pattern: value)) != nil && ConstraintPattern.regex(value) != nil,
                            path,
                            "'\(value)' is not a valid regular expression"
                        )
                    }
                } else {
                    violations.add(path, "\(op) needs a regular expression as the third element")
                }
            case "MAX_PER":
                if let value {
                    violations.require(
                        self.isPositiveInteger(value),
                        path,
                        "MAX_PER value '\(value)' must be a positive integer"
                    )
                } else {
                    violations.add(
                        path,
                        "MAX_PER needs a positive integer as the third element, e.g. [\"hostname\", \"MAX_PER\", \"2\"]"
                    )
                }
            case "IS":
                violations.require(value != nil, path, "IS needs the value to compare with as the third element")
            default:
                violations.add(
                    path,
                    "operator '\(op)' is unknown; use one of \(self.constraintOperators.joined(separator: ", "))"
                )
            }
        }
    }

    static func isPositiveInteger(_ text: String) -> Bool {
        guard let number = Int32(text) else { return false }
        return number > 0
    }
}
