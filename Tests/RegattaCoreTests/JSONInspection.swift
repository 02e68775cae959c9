// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

/// Helpers for looking inside encoded JSON without depending on key order.
enum JSONInspection {
    /// Every object key anywhere in the document.
    static func allKeys(in data: Data) throws -> Set<String> {
        var keys = Set<String>()
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, child) in object {
                    keys.insert(key)
                    walk(child)
                }
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(try JSONSerialization.jsonObject(with: data))
        return keys
    }

    /// Decodes `json` with Mesos field names, re-encodes it, decodes the result and checks both decodings are equal.
    ///
    /// Returns the first decoding and the re-encoded bytes.
    static func roundTrip<T: Codable & Equatable>(
        _ type: T.Type,
        _ json: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (value: T, encoded: Data) {
        let value = try MesosJSON.decode(type, from: Data(json.utf8))
        let encoded = try MesosJSON.encode(value)
        let again = try MesosJSON.decode(type, from: encoded)
        #expect(again == value, "round trip changed the value", sourceLocation: sourceLocation)
        let keys = try self.allKeys(in: encoded)
        let camelCase = keys.filter { key in key.contains { $0.isUppercase } }
        #expect(camelCase.isEmpty, "encoded keys must be snake_case: \(camelCase)", sourceLocation: sourceLocation)
        return (value, encoded)
    }
}
