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
            (lhs.name, lhs.role) < (rhs.name, rhs.role)
        }
    }

    private var entries: [Key: Resource.Value]

    /// Creates an empty bag.
    public init() {
        self.entries = [:]
    }

    /// Creates a bag from a list of resources; entries with the same name and role are added up.
    ///
    /// - Throws: `CoreError.invalidResources` if one name is used with two different types.
    public init(_ resources: [Resource]) throws {
        self.entries = [:]
        for resource in resources {
            try self.add(resource)
        }
    }

    /// The resources as a list, sorted by name then role, without empty entries.
    public var list: [Resource] {
        self.entries.keys.sorted().compactMap { key in
            let resource = Resource(name: key.name, value: self.entries[key]!, role: key.role)
            return resource.isEmpty ? nil : resource
        }
    }

    /// The resources stamped with `allocation_info.role`, as Mesos sends them in offers.
    public func allocated(to role: String) -> [Resource] {
        self.list.map { resource in
            var resource = resource
            resource.allocationRole = role
            return resource
        }
    }

    /// Whether every entry is zero or empty.
    public var isEmpty: Bool {
        self.entries.allSatisfy { key, value in Resource(name: key.name, value: value, role: key.role).isEmpty }
    }

    /// The total of a scalar resource across roles (`cpus`, `mem`, …); zero if absent.
    public func scalar(_ name: String) -> Scalar {
        var total = Scalar.zero
        for (key, value) in self.entries where key.name == name {
            if case .scalar(let scalar) = value { total += scalar }
        }
        return total
    }

    /// The union of a ranges resource across roles (`ports`); empty if absent.
    public func ranges(_ name: String) -> RangeSet {
        var total = RangeSet()
        for (key, value) in self.entries where key.name == name {
            if case .ranges(let ranges) = value { total = total.union(ranges) }
        }
        return total
    }

    /// The resources a framework in `role` may use: unreserved ones plus those reserved for `role`.
    public func allocatable(to role: String) -> Resources {
        var result = Resources()
        for (key, value) in self.entries where key.role == "*" || key.role == role {
            result.entries[key] = value
        }
        return result
    }

    /// Adds one resource.
    ///
    /// - Throws: `CoreError.invalidResources` if the name is already present with another type.
    public mutating func add(_ resource: Resource) throws {
        let key = Key(name: resource.name, role: resource.role)
        guard let existing = self.entries[key] else {
            self.entries[key] = resource.value
            return
        }
        switch (existing, resource.value) {
        case (.scalar(let a), .scalar(let b)): self.entries[key] = .scalar(a + b)
        case (.ranges(let a), .ranges(let b)): self.entries[key] = .ranges(a.union(b))
        case (.set(let a), .set(let b)): self.entries[key] = .set(a.union(b))
        default:
            throw CoreError(
                .invalidResources,
                "Resource '\(resource.name)' is given as both \(existing.typeName) and \(resource.value.typeName); use one type per name."
            )
        }
    }

    /// Whether this bag holds at least everything in `other` (same names, roles and types).
    public func contains(_ other: Resources) -> Bool {
        for (key, needed) in other.entries {
            let have = self.entries[key]
            switch (have, needed) {
            case (_, .scalar(let b)) where b.milli <= 0: continue
            case (_, .ranges(let b)) where b.isEmpty: continue
            case (_, .set(let b)) where b.isEmpty: continue
            case (.scalar(let a)?, .scalar(let b)): if a < b { return false }
            case (.ranges(let a)?, .ranges(let b)): if !a.contains(b) { return false }
            case (.set(let a)?, .set(let b)): if !b.isSubset(of: a) { return false }
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
        for (key, value) in rhs.entries {
            try? lhs.add(Resource(name: key.name, value: value, role: key.role))
        }
    }

    /// Removes `other` from this bag. Scalars never drop below zero; callers that must not
    /// over-commit check ``contains(_:)`` first.
    public static func - (lhs: Resources, rhs: Resources) -> Resources {
        var result = lhs
        result -= rhs
        return result
    }

    public static func -= (lhs: inout Resources, rhs: Resources) {
        for (key, value) in rhs.entries {
            guard let existing = lhs.entries[key] else { continue }
            switch (existing, value) {
            case (.scalar(let a), .scalar(let b)): lhs.entries[key] = .scalar(Scalar(milli: max(0, a.milli - b.milli)))
            case (.ranges(let a), .ranges(let b)): lhs.entries[key] = .ranges(a.subtracting(b))
            case (.set(let a), .set(let b)): lhs.entries[key] = .set(a.subtracting(b))
            default: continue
            }
            if Resource(name: key.name, value: lhs.entries[key]!, role: key.role).isEmpty {
                lhs.entries[key] = nil
            }
        }
    }

    public static func == (lhs: Resources, rhs: Resources) -> Bool {
        lhs.list == rhs.list
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.list)
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
