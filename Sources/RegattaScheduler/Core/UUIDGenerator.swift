// SPDX-License-Identifier: Apache-2.0

/// Makes the random UUIDs of new instances and deployments from a random number generator, so the scheduler's
/// decisions replay exactly from a seeded one in tests.
public struct UUIDGenerator: Sendable {
    private var generator: any RandomNumberGenerator & Sendable

    /// UUIDs drawn from `generator`.
    public init(_ generator: some RandomNumberGenerator & Sendable) {
        self.generator = generator
    }

    /// UUIDs drawn from the system's random number generator.
    public static var system: UUIDGenerator { UUIDGenerator(SystemRandomNumberGenerator()) }

    /// A version 4 (random) UUID in lower case, as `UUID().uuidString.lowercased()` writes it.
    public mutating func next() -> String {
        var high = self.generator.next()
        var low = self.generator.next()
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & ~(0xC000 << 48)) | (0x8000 << 48)  // RFC 4122 variant
        let digits = Self.hex(high, 16) + Self.hex(low, 16)
        var text = ""
        text.reserveCapacity(36)
        for (index, character) in digits.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { text.append("-") }
            text.append(character)
        }
        return text
    }

    private static func hex(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: width - digits.count) + digits
    }
}
