// SPDX-License-Identifier: Apache-2.0
import Foundation

/// One figure of a benchmark report.
public enum BenchValue: Sendable, Hashable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    /// The value as JSON.
    var json: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): value.isFinite ? String(format: "%.3f", value) : "null"
        case .string(let value): Self.quoted(value)
        case .bool(let value): value ? "true" : "false"
        }
    }

    /// The value for people.
    var text: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): String(format: "%.2f", value)
        case .string(let value): value
        case .bool(let value): value ? "yes" : "no"
        }
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

/// What a scenario measured: named figures in a fixed order, printed as one JSON line and as a summary.
public struct BenchReport: Sendable {
    /// The scenario's name, e.g. `deploy-one-app`.
    public var scenario: String
    /// The figures, in the order they are printed.
    public private(set) var figures: [(name: String, value: BenchValue)] = []
    /// Remarks for people: what limited a figure, what the process's memory includes.
    public var notes: [String] = []

    public init(scenario: String) {
        self.scenario = scenario
    }

    /// Adds or replaces a figure.
    public mutating func set(_ name: String, _ value: BenchValue) {
        if let index = self.figures.firstIndex(where: { $0.name == name }) {
            self.figures[index].value = value
        } else {
            self.figures.append((name, value))
        }
    }

    public mutating func set(_ name: String, _ value: Int) { self.set(name, .int(value)) }
    public mutating func set(_ name: String, _ value: Double) { self.set(name, .double(value)) }
    public mutating func set(_ name: String, _ value: String) { self.set(name, .string(value)) }

    /// A figure by name.
    public subscript(_ name: String) -> BenchValue? {
        self.figures.first { $0.name == name }?.value
    }

    /// A numeric figure by name.
    public func number(_ name: String) -> Double? {
        switch self[name] {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// One line of JSON: `{"scenario": …, <figures>…}`.
    public var jsonLine: String {
        var fields = ["\"scenario\":\(BenchValue.quoted(self.scenario))"]
        fields += self.figures.map { "\(BenchValue.quoted($0.name)):\($0.value.json)" }
        if !self.notes.isEmpty {
            fields.append("\"notes\":[\(self.notes.map(BenchValue.quoted).joined(separator: ","))]")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// A readable summary: one figure per line, then the notes.
    public var summary: String {
        let width = self.figures.map(\.name.count).max() ?? 0
        var lines = ["\(self.scenario):"]
        for (name, value) in self.figures {
            lines.append("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(value.text)")
        }
        lines += self.notes.map { "  note: \($0)" }
        return lines.joined(separator: "\n")
    }
}
