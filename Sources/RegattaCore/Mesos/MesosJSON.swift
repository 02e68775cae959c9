// SPDX-License-Identifier: Apache-2.0
import Foundation

/// JSON coders for Mesos's v1 messages, which use protobuf field names (`task_id`, `agent_id`).
///
/// Swift properties are camel case; these coders convert keys to and from snake case.
/// - Important: Always use these coders for Mesos types; a plain `JSONEncoder` emits camel case keys.
public enum MesosJSON {
    /// An encoder producing Mesos field names.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    /// A decoder accepting Mesos field names.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// Encodes a value to JSON bytes with Mesos field names.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try self.encoder().encode(value)
    }

    /// Decodes a value from JSON bytes with Mesos field names.
    ///
    /// - Throws: `CoreError.invalidJSON` with the JSON path of the problem.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try self.decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw CoreError(.invalidJSON, "Invalid JSON: \(error.readableDescription)")
        } catch {
            throw CoreError(.invalidJSON, "Invalid JSON: the body is not a JSON document")
        }
    }
}

/// A point in time as Mesos's `TimeInfo`.
public struct TimeInfo: Codable, Hashable, Sendable {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
}

/// A span of time as Mesos's `DurationInfo`.
public struct DurationInfo: Codable, Hashable, Sendable {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Double) { self.nanoseconds = Saturating.nanoseconds(seconds: seconds) }
    public var duration: Duration { .nanoseconds(self.nanoseconds) }
}

/// Key-value labels as Mesos's `Labels`.
public struct Labels: Codable, Hashable, Sendable {
    public struct Label: Codable, Hashable, Sendable {
        public var key: String
        public var value: String?
        public init(key: String, value: String?) {
            self.key = key
            self.value = value
        }
    }
    public var labels: [Label]
    public init(_ labels: [Label] = []) { self.labels = labels }
    public init(_ dictionary: [String: String]) {
        self.labels = dictionary.sorted { $0.key < $1.key }.map { Label(key: $0.key, value: $0.value) }
    }
    /// The value of the first label with `key`.
    public subscript(key: String) -> String? { self.labels.first { $0.key == key }?.value }
}
