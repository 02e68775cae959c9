// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization

/// The regular expressions of `LIKE` and `UNLIKE` constraints, compiled once per pattern and shared by every
/// offer round.
///
/// A pattern is anchored at both ends, as Marathon matches it. Patterns longer than ``maximumLength`` are refused
/// by the app validator and never compiled here, so a hostile app cannot make each offer round compile (or run)
/// an arbitrarily large expression.
enum ConstraintPattern {
    /// The longest pattern accepted, in characters.
    static let maximumLength = 256
    /// How many compiled patterns are kept; the cache starts over when it is full.
    static let cacheCapacity = 1024

    private static let cache = Mutex<[String: NSRegularExpression]>([:])

    /// The compiled, anchored pattern; `nil` if it is too long or not a valid regular expression.
    static func regex(_ pattern: String) -> NSRegularExpression? {
        guard pattern.count <= Self.maximumLength else { return nil }
        if let cached = Self.cache.withLock({ $0[pattern] }) { return cached }
        guard let compiled = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return nil }
        Self.cache.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[pattern] = compiled
        }
        return compiled
    }

    /// Whether `value` matches the whole pattern.
    static func fullMatch(_ value: String, _ regex: NSRegularExpression) -> Bool {
        regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
    }
}
