// SPDX-License-Identifier: Apache-2.0

/// A bag of resources keyed by name and reservation role, with exact arithmetic.
///
/// `allocationRole` is not part of the key: arithmetic ignores it, so resources offered to a role
/// can be subtracted from an agent's total. Use ``allocated(to:)`` to stamp it for the wire.
public struct Resources: Hashable, Sendable {
    private struct Key: Hashable, Sendable, Comparable {
        var name: String
        var role: String
        static func < (lhs: Key, rhs: Key) -> Bool {
            lhs.name == rhs.name ? lhs.role < rhs.role : lhs.name < rhs.name
        }
    }

    private struct Entry: Sendable {
        var key: Key
        var value: Resource.Value
    }

    /// Sorted by key, one entry per key. A bag holds a handful of entries (cpus, mem, disk, ports, per role), so a
    /// sorted array beats a dictionary: no hashing of two strings per lookup in the allocator's arithmetic.
    private var entries: [Entry]

    /// Creates an empty bag.
    public init() {
        self.entries = []
    }

    /// Creates a bag from a list of resources; entries with the same name and role are added up.
    ///
    /// - Throws: `CoreError.invalidResources` if one name is used with two different types.
    public init(_ resources: [Resource]) throws {
        self.entries = []
        self.entries.reserveCapacity(resources.count)
        for resource in resources {
            try self.add(
                Key(name: resource.name, role: resource.role),
                resource.value,
                name: resource.name,
                bounded: true
            )
        }
    }

    /// Where `key` is, or where it would be inserted.
    private func position(of key: Key) -> (index: Int, found: Bool) {
        for index in self.entries.indices {
            let candidate = self.entries[index].key
            if candidate == key { return (index, true) }
            if key < candidate { return (index, false) }
        }
        return (self.entries.endIndex, false)
    }

    private static func isEmpty(_ value: Resource.Value) -> Bool {
        switch value {
        case .scalar(let scalar): scalar.milli <= 0
        case .ranges(let ranges): ranges.isEmpty
        case .set(let items): items.isEmpty
        }
    }

    /// The entries that are not zero or empty, in key order.
    private var nonEmptyEntries: LazyFilterSequence<[Entry]> {
        self.entries.lazy.filter { !Self.isEmpty($0.value) }
    }

    /// The resources as a list, sorted by name then role, without empty entries.
    public var list: [Resource] {
        self.nonEmptyEntries.map { Resource(name: $0.key.name, value: $0.value, role: $0.key.role) }
    }

    /// The resources stamped with `allocation_info.role`, as Mesos sends them in offers.
    public func allocated(to role: String) -> [Resource] {
        self.nonEmptyEntries.map {
            Resource(name: $0.key.name, value: $0.value, role: $0.key.role, allocationRole: role)
        }
    }

    /// Whether every entry is zero or empty.
    public var isEmpty: Bool {
        self.entries.allSatisfy { Self.isEmpty($0.value) }
    }

    /// The total of a scalar resource across roles (`cpus`, `mem`, …); zero if absent.
    public func scalar(_ name: String) -> Scalar {
        var total = Scalar.zero
        for entry in self.entries where entry.key.name == name {
            if case .scalar(let scalar) = entry.value { total += scalar }
        }
        return total
    }

    /// The union of a ranges resource across roles (`ports`); empty if absent.
    public func ranges(_ name: String) -> RangeSet {
        var total = RangeSet()
        for entry in self.entries where entry.key.name == name {
            if case .ranges(let ranges) = entry.value { total = total.union(ranges) }
        }
        return total
    }

    /// The resources a framework in `role` may use: unreserved ones plus those reserved for `role`.
    public func allocatable(to role: String) -> Resources {
        if self.entries.allSatisfy({ $0.key.role == "*" || $0.key.role == role }) { return self }
        var result = Resources()
        result.entries = self.entries.filter { $0.key.role == "*" || $0.key.role == role }
        return result
    }

    /// Adds one resource.
    ///
    /// - Throws: `CoreError.invalidResources` if the name is already present with another type.
    public mutating func add(_ resource: Resource) throws {
        try self.add(Key(name: resource.name, role: resource.role), resource.value, name: resource.name)
    }

    /// - Parameter bounded: refuse a scalar that adds up to more than ``Scalar/maximumValue`` (for a list from a
    ///   request, which may repeat a name); sums of accounting (`+=`) only saturate.
    private mutating func add(_ key: Key, _ value: Resource.Value, name: String, bounded: Bool = false) throws {
        let (index, found) = self.position(of: key)
        guard found else {
            self.entries.insert(Entry(key: key, value: value), at: index)
            return
        }
        let existing = self.entries[index].value
        switch (existing, value) {
        case (.scalar(let a), .scalar(let b)):
            let sum = a + b
            if bounded, sum.value.magnitude > Scalar.maximumValue {
                throw CoreError(
                    .invalidResources,
                    "Resource '\(name)' adds up to \(sum.value), more than \(Int64(Scalar.maximumValue)); give each name once with a smaller amount."
                )
            }
            self.entries[index].value = .scalar(sum)
        case (.ranges(let a), .ranges(let b)): self.entries[index].value = .ranges(a.union(b))
        case (.set(let a), .set(let b)): self.entries[index].value = .set(a.union(b))
        default:
            throw CoreError(
                .invalidResources,
                "Resource '\(name)' is given as both \(existing.typeName) and \(value.typeName); use one type per name."
            )
        }
    }

    /// Whether this bag holds at least everything in `other` (same names, roles and types).
    public func contains(_ other: Resources) -> Bool {
        for entry in other.entries {
            let needed = entry.value
            if Self.isEmpty(needed) { continue }
            let (index, found) = self.position(of: entry.key)
            guard found else { return false }
            switch (self.entries[index].value, needed) {
            case (.scalar(let a), .scalar(let b)): if a < b { return false }
            case (.ranges(let a), .ranges(let b)): if !a.contains(b) { return false }
            case (.set(let a), .set(let b)): if !b.isSubset(of: a) { return false }
            default: return false
            }
        }
        return true
    }

    /// Adds `other` to this bag. Entries of mismatching types keep this bag's type.
    public static func + (lhs: Resources, rhs: Resources) -> Resources {
        var result = lhs
        result += rhs
        return result
    }

    public static func += (lhs: inout Resources, rhs: Resources) {
        // The allocator adds offers to empty bags and bags of the same names (cpus, disk, mem, ports) all the time.
        if lhs.entries.isEmpty {
            lhs.entries = rhs.entries
            return
        }
        if lhs.entries.count == rhs.entries.count, lhs.addInLockstep(rhs) { return }
        for entry in rhs.entries {
            try? lhs.add(entry.key, entry.value, name: entry.key.name)
        }
    }

    /// Adds `other` entry by entry when both bags have the same keys of the same types; `false` (and nothing
    /// changed) otherwise.
    private mutating func addInLockstep(_ other: Resources) -> Bool {
        for index in self.entries.indices {
            guard self.entries[index].key == other.entries[index].key else { return false }
            switch (self.entries[index].value, other.entries[index].value) {
            case (.scalar, .scalar), (.ranges, .ranges), (.set, .set): continue
            default: return false
            }
        }
        for index in self.entries.indices {
            switch (self.entries[index].value, other.entries[index].value) {
            case (.scalar(let a), .scalar(let b)): self.entries[index].value = .scalar(a + b)
            case (.ranges(let a), .ranges(let b)): self.entries[index].value = .ranges(a.union(b))
            case (.set(let a), .set(let b)): self.entries[index].value = .set(a.union(b))
            default: break
            }
        }
        return true
    }

    /// Removes `other` from this bag. Scalars never drop below zero; callers that must not
    /// over-commit check ``contains(_:)`` first.
    public static func - (lhs: Resources, rhs: Resources) -> Resources {
        var result = lhs
        result -= rhs
        return result
    }

    public static func -= (lhs: inout Resources, rhs: Resources) {
        for entry in rhs.entries {
            let (index, found) = lhs.position(of: entry.key)
            guard found else { continue }
            let remaining: Resource.Value
            switch (lhs.entries[index].value, entry.value) {
            case (.scalar(let a), .scalar(let b)): remaining = .scalar(Scalar(milli: max(0, a.milli - b.milli)))
            case (.ranges(let a), .ranges(let b)): remaining = .ranges(a.subtracting(b))
            case (.set(let a), .set(let b)): remaining = .set(a.subtracting(b))
            default: continue
            }
            if Self.isEmpty(remaining) {
                lhs.entries.remove(at: index)
            } else {
                lhs.entries[index].value = remaining
            }
        }
    }

    public static func == (lhs: Resources, rhs: Resources) -> Bool {
        lhs.nonEmptyEntries.elementsEqual(rhs.nonEmptyEntries) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in self.nonEmptyEntries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }
}

extension Resources: Codable {
    public init(from decoder: any Decoder) throws {
        let list = try [Resource](from: decoder)
        do {
            try self.init(list)
        } catch let error as CoreError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try self.list.encode(to: encoder)
    }
}

extension Resources: CustomStringConvertible {
    /// Mesos's text form: `cpus:4;mem:8192;ports:[31000-32000];cpus(web):2`.
    public var description: String {
        self.list.map { resource in
            let name = resource.role == "*" ? resource.name : "\(resource.name)(\(resource.role))"
            switch resource.value {
            case .scalar(let scalar): return "\(name):\(scalar)"
            case .ranges(let ranges): return "\(name):\(ranges)"
            case .set(let items): return "\(name):{\(items.sorted().joined(separator: ","))}"
            }
        }.joined(separator: ";")
    }
}
