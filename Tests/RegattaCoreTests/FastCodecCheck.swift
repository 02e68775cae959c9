// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

/// Checks that the fast Mesos JSON codec agrees with Foundation's (`MesosJSON.encode`/`decode`).
enum FastCodecCheck {
    /// Decodes with the fast reader only: no fallback to Foundation.
    static func fastOnly<T: MesosJSONDecodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { bytes throws(JSONReadError) in try JSONReader.decode(type, from: bytes) }
    }

    static func foundation<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try MesosJSON.decode(type, from: Data(bytes))
    }

    /// Encoding fast gives the JSON Foundation gives (Foundation's key order varies from run to run, so the documents
    /// are compared parsed); each decodes the other's output back to `value`.
    static func roundTrip<T: MesosJSONCodable & Codable & Equatable>(
        _ value: T,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let foundationBytes = Array(try MesosJSON.encode(value))
        let fastBytes = try MesosJSON.encodeFast(value)
        #expect(
            try self.sameDocument(fastBytes, foundationBytes),
            "fast: \(String(decoding: fastBytes, as: UTF8.self))\nfoundation: \(String(decoding: foundationBytes, as: UTF8.self))",
            sourceLocation: sourceLocation
        )
        #expect(try self.foundation(T.self, fastBytes) == value, sourceLocation: sourceLocation)
        let decoded = try self.fastOnly(T.self, foundationBytes)
        #expect(decoded == value, sourceLocation: sourceLocation)
    }

    /// Whether two JSON documents hold the same values, keys in any order; numbers must have the same text.
    static func sameDocument(_ a: [UInt8], _ b: [UInt8]) throws -> Bool {
        let first = try JSONSerialization.jsonObject(with: Data(a), options: [.fragmentsAllowed]) as? NSObject
        let second = try JSONSerialization.jsonObject(with: Data(b), options: [.fragmentsAllowed]) as? NSObject
        return first != nil && first == second && a.count == b.count && a.sorted() == b.sorted()
    }

    /// The fast reader decodes `json` to the value Foundation decodes, without falling back.
    static func sameValue<T: MesosJSONDecodable & Decodable & Equatable>(
        _ type: T.Type,
        _ json: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let bytes = Array(json.utf8)
        let expected = try self.foundation(type, bytes)
        let fast = try self.fastOnly(type, bytes)
        #expect(fast == expected, sourceLocation: sourceLocation)
        #expect(try MesosJSON.decodeFast(type, from: bytes) == expected, sourceLocation: sourceLocation)
    }

    /// `decodeFast` returns what `MesosJSON.decode` returns, or throws the same message; and when the fast reader
    /// alone accepts the bytes, Foundation accepts them too, with the same value.
    static func sameOutcome<T: MesosJSONDecodable & Decodable & Equatable>(
        _ type: T.Type,
        _ bytes: [UInt8],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let foundation = Result { try self.foundation(type, bytes) }
        let fast = Result { try MesosJSON.decodeFast(type, from: bytes) }
        let text = String(decoding: bytes, as: UTF8.self)
        switch (foundation, fast) {
        case (.success(let expected), .success(let value)):
            #expect(value == expected, "\(text)", sourceLocation: sourceLocation)
        case (.failure(let expected as CoreError), .failure(let error as CoreError)):
            #expect(error.code == expected.code, sourceLocation: sourceLocation)
            #expect(error.message == expected.message, "\(text)", sourceLocation: sourceLocation)
        default:
            Issue.record("Foundation: \(foundation), fast: \(fast) for \(text)", sourceLocation: sourceLocation)
        }
        if let value = try? self.fastOnly(type, bytes) {
            guard case .success(let expected) = foundation else {
                Issue.record(
                    "The fast reader accepted what Foundation refuses: \(text)",
                    sourceLocation: sourceLocation
                )
                return
            }
            #expect(value == expected, "\(text)", sourceLocation: sourceLocation)
        }
    }
}
