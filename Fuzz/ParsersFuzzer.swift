// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Fuzzing of the text parsers of agent flags (`REGATTA_FUZZ_TARGET=parsers`): ``Resources/parse(_:)`` (text and
/// JSON forms), ``Attribute/parseList(_:)`` and ``MesosDuration/parse(_:)``.
///
/// Input: the text; a `|` splits it into two resource bags for the arithmetic checks.
///
/// - Important: Invariants: nothing traps; parsed scalars are within `0…Scalar.maximumValue` and ranges are ordered;
///   a bag parsed from text has a text form (`description`) that parses back to the same bag; `a + b` contains `a` and `a - a` is empty;
///   parsed attribute names and values are not empty; a parsed duration lies within `0…3650` days and formats
///   without trapping.
enum ParsersFuzzer {
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)

        if let resources = try? Resources.parse(text) {
            self.checkBag(
                resources,
                text: text,
                isJSON: text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("[")
            )
            let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, let a = try? Resources.parse(String(parts[0])),
                let b = try? Resources.parse(String(parts[1]))
            {
                FuzzCheck.require((a + b).contains(a), "\(a) + \(b) does not contain \(a)")
                FuzzCheck.require((a - a).isEmpty, "\(a) - itself is \(a - a)")
                _ = (a - b).contains(b)
                _ = a.allocatable(to: "web")
            }
        }

        if let attributes = try? Attribute.parseList(text) {
            for attribute in attributes {
                FuzzCheck.require(!attribute.name.isEmpty, "an attribute without a name from \(text)")
                FuzzCheck.require(!attribute.stringValue.isEmpty, "attribute \(attribute.name) has no value in \(text)")
                if case .scalar(let scalar) = attribute.value {
                    FuzzCheck.require(
                        abs(scalar.value) <= Scalar.maximumValue,
                        "attribute scalar \(scalar) out of range"
                    )
                }
            }
        }

        if let duration = try? MesosDuration.parse(text) {
            FuzzCheck.require(
                duration >= .zero && duration <= .seconds(3650 * 86400),
                "duration \(duration) from '\(text)' out of range"
            )
            _ = MesosDuration.format(duration)
        }
    }

    private static func checkBag(_ resources: Resources, text: String, isJSON: Bool) {
        for resource in resources.list {
            switch resource.value {
            case .scalar(let scalar):
                FuzzCheck.require(
                    scalar.milli >= 0 && scalar.value <= Scalar.maximumValue,
                    "resource \(resource.name) is \(scalar) from '\(text)'"
                )
            case .ranges(let ranges):
                FuzzCheck.require(
                    ranges.ranges.allSatisfy { $0.begin <= $0.end },
                    "resource \(resource.name) has reversed ranges"
                )
            case .set:
                break
            }
        }
        // The JSON form accepts any names and set items (`"name":"a:[b"`), which the text form cannot carry.
        guard !isJSON else { return }
        let description = resources.description
        let again = Result { try Resources.parse(description) }
        FuzzCheck.require(
            (try? again.get()) == resources,
            "'\(text)' parses to \(resources), whose text form '\(description)' parses to \(again)"
        )
    }
}
