// SPDX-License-Identifier: Apache-2.0
import Foundation

extension Resources {
    /// Parses Mesos's `--resources` flag: either text such as
    /// `cpus:4;mem:8192;disk:10240;ports:[31000-32000];cpus(web):2;zones:{a,b}`
    /// or a JSON array of `Resource` objects.
    ///
    /// - Throws: `CoreError.invalidResources` naming the offending entry and the accepted form.
    public static func parse(_ text: String) throws -> Resources {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("[") {
            return try self.parseJSON(trimmed)
        }
        var resources = Resources()
        for part in trimmed.split(separator: ";", omittingEmptySubsequences: true) {
            let entry = part.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            try resources.add(try self.parseEntry(entry))
        }
        return resources
    }

    private static func parseJSON(_ text: String) throws -> Resources {
        do {
            return try JSONDecoder().decode(Resources.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw CoreError(.invalidResources, "Invalid resources JSON: \(error.readableDescription)")
        }
    }

    private static func parseEntry(_ entry: String) throws -> Resource {
        guard let colon = entry.firstIndex(of: ":") else {
            throw CoreError(
                .invalidResources,
                "Resource '\(entry)' has no value; write it as 'name:value', e.g. 'cpus:4'."
            )
        }
        var name = String(entry[..<colon]).trimmingCharacters(in: .whitespaces)
        let valueText = String(entry[entry.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        var role = "*"
        if let open = name.firstIndex(of: "(") {
            guard name.hasSuffix(")") else {
                throw CoreError(
                    .invalidResources,
                    "Resource '\(entry)' has an unclosed role; write it as 'name(role):value'."
                )
            }
            role = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            name = String(name[..<open])
            guard !role.isEmpty, role.allSatisfy({ $0.isLetter || $0.isNumber || "-_.*/".contains($0) }) else {
                throw CoreError(.invalidResources, "Resource '\(entry)' has an invalid role '\(role)'.")
            }
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw CoreError(
                .invalidResources,
                "Resource '\(entry)' has an invalid name '\(name)'; names use letters, digits, '-', '_' and '.'."
            )
        }
        if valueText.hasPrefix("[") {
            return Resource(name: name, value: .ranges(try self.parseRanges(valueText, entry: entry)), role: role)
        }
        if valueText.hasPrefix("{") {
            guard valueText.hasSuffix("}") else {
                throw CoreError(.invalidResources, "Resource '\(entry)' has an unclosed set; write it as '{a,b}'.")
            }
            let items = valueText.dropFirst().dropLast().split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            return Resource(name: name, value: .set(Set(items)), role: role)
        }
        guard let amount = Double(valueText), amount.isFinite else {
            throw CoreError(
                .invalidResources,
                "Resource '\(entry)' has value '\(valueText)'; use a number (cpus:2), ranges ([31000-32000]) or a set ({a,b})."
            )
        }
        guard amount >= 0 else {
            throw CoreError(.invalidResources, "Resource '\(entry)' is negative; amounts must be >= 0.")
        }
        guard amount <= Scalar.maximumValue else {
            throw CoreError(
                .invalidResources,
                "Resource '\(entry)' is too large; amounts must be <= \(Int64(Scalar.maximumValue))."
            )
        }
        return Resource(name: name, value: .scalar(Scalar(amount)), role: role)
    }

    private static func parseRanges(_ text: String, entry: String) throws -> RangeSet {
        guard text.hasSuffix("]") else {
            throw CoreError(
                .invalidResources,
                "Resource '\(entry)' has unclosed ranges; write them as '[31000-32000,33000-33010]'."
            )
        }
        var ranges: [ValueRange] = []
        for piece in text.dropFirst().dropLast().split(separator: ",") {
            let bounds = piece.split(separator: "-", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard bounds.count == 2, let begin = UInt64(bounds[0]), let end = UInt64(bounds[1]) else {
                throw CoreError(
                    .invalidResources,
                    "Resource '\(entry)' has range '\(piece.trimmingCharacters(in: .whitespaces))'; write each range as 'begin-end' with non-negative integers."
                )
            }
            guard begin <= end else {
                throw CoreError(
                    .invalidResources,
                    "Resource '\(entry)' has range '\(begin)-\(end)' whose begin exceeds its end; write it as '\(end)-\(begin)'."
                )
            }
            ranges.append(ValueRange(begin: begin, end: end))
        }
        return RangeSet(ranges)
    }
}

extension DecodingError {
    /// A one-line description naming the JSON path, suitable for operators.
    public var readableDescription: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            "/" + codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch self {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): missing \(type)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): is required"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
