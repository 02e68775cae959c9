// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The fast paths: hand-written readers and writers (``MesosJSONCodable``) for the hot protocol messages, with
/// Foundation's semantics.
///
/// ```swift
/// let call = try MesosJSON.decodeFast(AgentCall.self, from: body)   // Data, [UInt8] or raw bytes
/// let bytes = try MesosJSON.encodeFast(message)                      // [UInt8]
/// ```
///
/// Decoding tries ``JSONReader`` first; if it fails for any reason, the document is decoded again with
/// ``MesosJSON/decode(_:from:)``, so the value, or the `CoreError(.invalidJSON, …)` thrown with its message, is exactly
/// Foundation's. Encoding produces the document ``MesosJSON/encode(_:)`` produces (the same keys and value bytes; keys
/// in declaration order, where Foundation's order varies from run to run).
extension MesosJSON {
    /// Decodes a value from JSON bytes, quickly when the document is plain Mesos JSON.
    ///
    /// - Throws: `CoreError.invalidJSON`, the same error ``decode(_:from:)`` throws.
    public static func decodeFast<T: MesosJSONDecodable & Decodable>(
        _ type: T.Type,
        from bytes: UnsafeRawBufferPointer
    ) throws -> T {
        if let value = try? JSONReader.decode(type, from: bytes) { return value }
        return try self.decode(type, from: Data(bytes))
    }

    /// Decodes a value from JSON bytes, quickly when the document is plain Mesos JSON.
    ///
    /// - Throws: `CoreError.invalidJSON`, the same error ``decode(_:from:)`` throws.
    public static func decodeFast<T: MesosJSONDecodable & Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let value = try? data.withUnsafeBytes({ bytes throws(JSONReadError) in
            try JSONReader.decode(type, from: bytes)
        }) {
            return value
        }
        return try self.decode(type, from: data)
    }

    /// Decodes a value from JSON bytes, quickly when the document is plain Mesos JSON.
    ///
    /// - Throws: `CoreError.invalidJSON`, the same error ``decode(_:from:)`` throws.
    public static func decodeFast<T: MesosJSONDecodable & Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try self.decodeFast(type, from: $0) }
    }

    /// Encodes a value to the JSON ``encode(_:)`` produces, several times faster.
    ///
    /// - Throws: Foundation's `EncodingError` for a value it cannot encode (a NaN or infinite double).
    public static func encodeFast<T: MesosJSONEncodable & Encodable>(_ value: T) throws -> [UInt8] {
        var writer = JSONWriter()
        value.writeMesosJSON(into: &writer)
        guard writer.invalidValue == nil else { return Array(try self.encode(value)) }
        return writer.bytes
    }

    /// Encodes a value with its fast writer if its type has one (``MesosJSONEncodable``), else with `encoder`.
    ///
    /// For generic code such as a RecordIO stream of any `Encodable` element.
    public static func encodeFast<T: Encodable>(_ value: T, orWith encoder: JSONEncoder) throws -> [UInt8] {
        if let fast = value as? any MesosJSONEncodable {
            var writer = JSONWriter()
            fast.writeMesosJSON(into: &writer)
            if writer.invalidValue == nil { return writer.bytes }
        }
        return Array(try encoder.encode(value))
    }
}
