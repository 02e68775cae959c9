// SPDX-License-Identifier: Apache-2.0

/// An identifier that Mesos encodes as `{"value":"…"}`.
public protocol MesosIdentifier: Hashable, Sendable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The identifier's text.
    var value: String { get }
    init(_ value: String)
}

private struct IdentifierBox: Codable {
    var value: String
}

extension MesosIdentifier {
    public init(from decoder: any Decoder) throws {
        self.init(try IdentifierBox(from: decoder).value)
    }

    public func encode(to encoder: any Encoder) throws {
        try IdentifierBox(value: self.value).encode(to: encoder)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public var description: String { self.value }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}

/// Identifies a framework, assigned by the master on first SUBSCRIBE.
public struct FrameworkID: MesosIdentifier {
    public var value: String
    public init(_ value: String) { self.value = value }
}

/// Identifies an agent, assigned by the master on first registration.
public struct AgentID: MesosIdentifier {
    public var value: String
    public init(_ value: String) { self.value = value }
}

/// Identifies an offer.
public struct OfferID: MesosIdentifier {
    public var value: String
    public init(_ value: String) { self.value = value }
}

/// Identifies a task; chosen by the framework and unique within it.
public struct TaskID: MesosIdentifier {
    public var value: String
    public init(_ value: String) { self.value = value }
}

/// Identifies an executor.
public struct ExecutorID: MesosIdentifier {
    public var value: String
    public init(_ value: String) { self.value = value }
}

/// Identifies a container run by an agent.
public struct ContainerID: MesosIdentifier {
    public var value: String
    public init(_ value: String) { self.value = value }
}
