// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A property of an agent used by placement constraints, as Mesos's `Attribute`.
///
/// JSON: `{"name":"rack","type":"TEXT","text":{"value":"a"}}`.
public struct Attribute: Hashable, Sendable {
    public enum Value: Hashable, Sendable {
        case text(String)
        case scalar(Scalar)
        case ranges(RangeSet)
        case set(Set<String>)
    }
    public var name: String
    public var value: Value

    public init(name: String, value: Value) {
        self.name = name
        self.value = value
    }

    /// The value as Marathon compares it in constraints: text as is, scalars as `0.###`,
    /// ranges as `[b-e]`, sets as `{a,b}`.
    public var stringValue: String {
        switch self.value {
        case .text(let text): text
        case .scalar(let scalar): scalar.description
        case .ranges(let ranges): ranges.description
        case .set(let items): "{" + items.sorted().joined(separator: ",") + "}"
        }
    }

    /// Parses Mesos's `--attributes` text: `rack:a;zone:1;ports:[1-2];tags:{x,y}`.
    ///
    /// Numbers become scalars, `[..]` ranges, `{..}` sets and everything else text, as in Mesos.
    /// - Throws: `CoreError.invalidAttributes` naming the bad entry.
    public static func parseList(_ text: String) throws -> [Attribute] {
        var attributes: [Attribute] = []
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            let entry = part.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            guard let colon = entry.firstIndex(of: ":") else {
                throw CoreError(
                    .invalidAttributes,
                    "Attribute '\(entry)' has no value; write it as 'name:value', e.g. 'rack:a'."
                )
            }
            let name = String(entry[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(entry[entry.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !value.isEmpty else {
                throw CoreError(.invalidAttributes, "Attribute '\(entry)' needs both a name and a value.")
            }
            if value.hasPrefix("[") || value.hasPrefix("{") {
                do {
                    let resource = try Resources.parse("\(name):\(value)").list.first
                    switch resource?.value {
                    case .ranges(let ranges): attributes.append(Attribute(name: name, value: .ranges(ranges)))
                    case .set(let items): attributes.append(Attribute(name: name, value: .set(items)))
                    default: attributes.append(Attribute(name: name, value: .text(value)))
                    }
                } catch let error as CoreError {
                    throw CoreError(
                        .invalidAttributes,
                        error.message.replacingOccurrences(of: "Resource", with: "Attribute")
                    )
                }
            } else if let number = Double(value), number.isFinite, abs(number) <= Scalar.maximumValue {
                attributes.append(Attribute(name: name, value: .scalar(Scalar(number))))
            } else {
                attributes.append(Attribute(name: name, value: .text(value)))
            }
        }
        return attributes
    }
}

extension Attribute: Codable {
    private enum CodingKeys: String, CodingKey { case name, type, text, scalar, ranges, set }
    private struct TextBox: Codable { var value: String }
    private struct ScalarBox: Codable { var value: Double }
    private struct RangesBox: Codable { var range: [ValueRange]? }
    private struct SetBox: Codable { var item: [String]? }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        switch try container.decode(String.self, forKey: .type) {
        case "TEXT": self.value = .text(try container.decode(TextBox.self, forKey: .text).value)
        case "SCALAR": self.value = .scalar(Scalar(try container.decode(ScalarBox.self, forKey: .scalar).value))
        case "RANGES": self.value = .ranges(RangeSet(try container.decode(RangesBox.self, forKey: .ranges).range ?? []))
        case "SET": self.value = .set(Set(try container.decode(SetBox.self, forKey: .set).item ?? []))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "unknown attribute type '\(other)'"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        switch self.value {
        case .text(let text):
            try container.encode("TEXT", forKey: .type)
            try container.encode(TextBox(value: text), forKey: .text)
        case .scalar(let scalar):
            try container.encode("SCALAR", forKey: .type)
            try container.encode(ScalarBox(value: scalar.value), forKey: .scalar)
        case .ranges(let ranges):
            try container.encode("RANGES", forKey: .type)
            try container.encode(RangesBox(range: ranges.ranges), forKey: .ranges)
        case .set(let items):
            try container.encode("SET", forKey: .type)
            try container.encode(SetBox(item: items.sorted()), forKey: .set)
        }
    }
}

/// Describes an agent, as Mesos's `AgentInfo`.
public struct AgentInfo: Codable, Hashable, Sendable {
    public var hostname: String
    public var port: Int?
    public var resources: Resources
    public var attributes: [Attribute]?
    public var id: AgentID?

    public init(
        hostname: String,
        port: Int? = nil,
        resources: Resources,
        attributes: [Attribute]? = nil,
        id: AgentID? = nil
    ) {
        self.hostname = hostname
        self.port = port
        self.resources = resources
        self.attributes = attributes
        self.id = id
    }
}
