// SPDX-License-Identifier: Apache-2.0

/// One named resource as in Mesos's `Resource` message: a scalar, a set of ranges or a set of items,
/// optionally statically reserved for a role.
///
/// JSON uses Mesos's v1 field names:
/// `{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},"role":"*"}`.
public struct Resource: Hashable, Sendable {
    /// The value of a resource.
    public enum Value: Hashable, Sendable {
        case scalar(Scalar)
        case ranges(RangeSet)
        case set(Set<String>)

        /// Mesos's `Value.Type` name.
        public var typeName: String {
            switch self {
            case .scalar: "SCALAR"
            case .ranges: "RANGES"
            case .set: "SET"
            }
        }
    }

    /// The resource name (`cpus`, `mem`, `disk`, `ports`, …).
    public var name: String
    /// The amount.
    public var value: Value
    /// The role the resource is reserved for; `*` means unreserved. Defaults to `*`.
    public var role: String
    /// The role the resource is allocated to, set on offered and launched resources (`allocation_info.role`).
    public var allocationRole: String?

    public init(name: String, value: Value, role: String = "*", allocationRole: String? = nil) {
        self.name = name
        self.value = value
        self.role = role
        self.allocationRole = allocationRole
    }

    /// A scalar resource.
    public static func scalar(_ name: String, _ amount: Double, role: String = "*") -> Resource {
        Resource(name: name, value: .scalar(Scalar(amount)), role: role)
    }

    /// A ranges resource.
    public static func ranges(_ name: String, _ ranges: RangeSet, role: String = "*") -> Resource {
        Resource(name: name, value: .ranges(ranges), role: role)
    }

    /// Whether the amount is zero or the set is empty.
    public var isEmpty: Bool {
        switch self.value {
        case .scalar(let scalar): scalar.milli <= 0
        case .ranges(let ranges): ranges.isEmpty
        case .set(let items): items.isEmpty
        }
    }
}

extension Resource: Codable {
    private enum CodingKeys: String, CodingKey {
        case name, type, scalar, ranges, set, role, reservations
        case allocationInfo
    }
    private struct ScalarBox: Codable { var value: Double }
    private struct RangesBox: Codable { var range: [ValueRange]? }
    private struct SetBox: Codable { var item: [String]? }
    private struct Reservation: Codable {
        var type: String?
        var role: String?
    }
    private struct AllocationInfo: Codable { var role: String? }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        guard !self.name.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: .name,
                in: container,
                debugDescription: "a resource needs a non-empty name"
            )
        }
        let type = try container.decodeIfPresent(String.self, forKey: .type) ?? "SCALAR"
        switch type {
        case "SCALAR":
            let box = try container.decode(ScalarBox.self, forKey: .scalar)
            guard box.value >= 0, box.value.isFinite, box.value <= Scalar.maximumValue else {
                throw DecodingError.dataCorruptedError(
                    forKey: .scalar,
                    in: container,
                    debugDescription:
                        "resource '\(self.name)' has amount \(box.value); amounts must be between 0 and \(Int64(Scalar.maximumValue))"
                )
            }
            self.value = .scalar(Scalar(box.value))
        case "RANGES":
            let box = try container.decode(RangesBox.self, forKey: .ranges)
            self.value = .ranges(RangeSet(box.range ?? []))
        case "SET":
            let box = try container.decode(SetBox.self, forKey: .set)
            self.value = .set(Set(box.item ?? []))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "resource '\(self.name)' has type '\(type)'; use SCALAR, RANGES or SET"
            )
        }
        let reservations = try container.decodeIfPresent([Reservation].self, forKey: .reservations) ?? []
        if let last = reservations.last?.role {
            self.role = last
        } else {
            self.role = try container.decodeIfPresent(String.self, forKey: .role) ?? "*"
        }
        self.allocationRole = try container.decodeIfPresent(AllocationInfo.self, forKey: .allocationInfo)?.role
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.value.typeName, forKey: .type)
        switch self.value {
        case .scalar(let scalar): try container.encode(ScalarBox(value: scalar.value), forKey: .scalar)
        case .ranges(let ranges): try container.encode(RangesBox(range: ranges.ranges), forKey: .ranges)
        case .set(let items): try container.encode(SetBox(item: items.sorted()), forKey: .set)
        }
        try container.encode(self.role, forKey: .role)
        if self.role != "*" {
            try container.encode([Reservation(type: "STATIC", role: self.role)], forKey: .reservations)
        }
        if let allocationRole {
            try container.encode(AllocationInfo(role: allocationRole), forKey: .allocationInfo)
        }
    }
}
