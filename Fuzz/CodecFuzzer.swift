// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Differential fuzzing of the fast Mesos JSON codecs against Foundation (`REGATTA_FUZZ_TARGET=codec`).
///
/// Every input is decoded as each of `SchedulerCall`, `AgentCall`, `TaskInfo`, `FrameworkInfo` and `Resource`, with
/// the fast reader alone (``JSONReader``), with ``MesosJSON/decodeFast(_:from:)-([UInt8])`` and with Foundation's
/// `JSONDecoder` (``MesosJSON/decode(_:from:)``), as `Tests/RegattaCoreTests/FastCodecCheck.swift` does.
///
/// - Important: Invariants: nothing traps; when the fast reader accepts a document, Foundation accepts it too and
///   decodes the same value; `decodeFast` and Foundation agree (both fail with the same message, or both succeed
///   with equal values); a decoded value written by the fast writer reads back as the same value through both
///   readers.
enum CodecFuzzer {
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let array = Array(bytes)
        self.check(SchedulerCall.self, bytes, array)
        self.check(AgentCall.self, bytes, array)
        self.check(TaskInfo.self, bytes, array)
        self.check(FrameworkInfo.self, bytes, array)
        self.check(Resource.self, bytes, array)
    }

    private static func check<T: MesosJSONCodable & Codable & Equatable>(
        _ type: T.Type,
        _ bytes: UnsafeRawBufferPointer,
        _ array: [UInt8]
    ) {
        let name = String(describing: type)
        let text = String(decoding: array, as: UTF8.self)
        let foundation = Result { try MesosJSON.decode(type, from: Data(array)) }
        let fastOnly = Result { () throws(JSONReadError) -> T in try JSONReader.decode(type, from: bytes) }
        let fast = Result { try MesosJSON.decodeFast(type, from: array) }

        if case .success(let value) = fastOnly {
            guard case .success(let expected) = foundation else {
                FuzzCheck.fail("\(name): the fast reader accepted what Foundation refuses: \(text)")
            }
            FuzzCheck.require(value == expected, "\(name): fast \(value) != Foundation \(expected) for \(text)")
        }
        switch (foundation, fast) {
        case (.success(let expected), .success(let value)):
            FuzzCheck.require(value == expected, "\(name): decodeFast \(value) != Foundation \(expected) for \(text)")
            self.roundTrip(value, name: name)
        case (.failure(let expected), .failure(let error)):
            let expectedError = expected as? CoreError
            let actualError = error as? CoreError
            FuzzCheck.require(
                expectedError?.code == actualError?.code && expectedError?.message == actualError?.message,
                "\(name): decodeFast threw \(error), Foundation \(expected) for \(text)"
            )
        default:
            FuzzCheck.fail("\(name): Foundation \(foundation), decodeFast \(fast) for \(text)")
        }
    }

    /// The fast writer's document reads back as `value` through both readers.
    private static func roundTrip<T: MesosJSONCodable & Codable & Equatable>(_ value: T, name: String) {
        guard let encoded = try? MesosJSON.encodeFast(value) else {
            // Only a non-finite double cannot be encoded, and JSON cannot carry one.
            FuzzCheck.fail("\(name): a decoded value cannot be encoded: \(value)")
        }
        let text = String(decoding: encoded, as: UTF8.self)
        let viaFoundation = Result { try MesosJSON.decode(T.self, from: Data(encoded)) }
        FuzzCheck.require(
            (try? viaFoundation.get()) == value,
            "\(name): Foundation reads \(viaFoundation) from \(text), not \(value)"
        )
        let viaFast = Result { try encoded.withUnsafeBytes { bytes in try JSONReader.decode(T.self, from: bytes) } }
        FuzzCheck.require(
            (try? viaFast.get()) == value,
            "\(name): the fast reader reads \(viaFast) from \(text), not \(value)"
        )
    }
}
