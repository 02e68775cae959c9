// SPDX-License-Identifier: Apache-2.0

/// Describes a framework, as Mesos's `FrameworkInfo`.
public struct FrameworkInfo: Codable, Hashable, Sendable {
    public struct Capability: Codable, Hashable, Sendable {
        public var type: String
        public init(type: String) { self.type = type }
    }
    public var user: String
    public var name: String
    public var id: FrameworkID?
    /// Seconds the master keeps the framework's tasks after it disconnects. Defaults to `0`.
    public var failoverTimeout: Double?
    public var checkpoint: Bool?
    /// The legacy single role; ignored when `roles` is set.
    public var role: String?
    public var roles: [String]?
    public var hostname: String?
    public var principal: String?
    public var webuiUrl: String?
    public var capabilities: [Capability]?
    public var labels: Labels?

    public init(
        user: String,
        name: String,
        id: FrameworkID? = nil,
        failoverTimeout: Double? = nil,
        checkpoint: Bool? = nil,
        roles: [String]? = nil,
        hostname: String? = nil,
        capabilities: [Capability]? = nil
    ) {
        self.user = user
        self.name = name
        self.id = id
        self.failoverTimeout = failoverTimeout
        self.checkpoint = checkpoint
        self.roles = roles
        self.hostname = hostname
        self.capabilities = capabilities
    }

    /// The roles the framework subscribes with: `roles`, else `role`, else `*`.
    public var effectiveRoles: [String] {
        if let roles, !roles.isEmpty { return roles }
        if let role, !role.isEmpty { return [role] }
        return ["*"]
    }

    /// Whether the framework declared a capability such as `PARTITION_AWARE`.
    public func has(capability: String) -> Bool {
        self.capabilities?.contains { $0.type == capability } ?? false
    }
}

/// Describes a master, as Mesos's `MasterInfo`; this JSON is what masters publish in ZooKeeper.
public struct MasterInfo: Codable, Hashable, Sendable {
    public struct Address: Codable, Hashable, Sendable {
        public var hostname: String?
        public var ip: String?
        public var port: Int
        /// `"https"` when the master serves TLS (a Regatta extension: Mesos's `Address` has no scheme, its TLS is
        /// cluster-wide); absent means `http`. Detectors reach the leader with it.
        public var scheme: String?
        public init(hostname: String?, ip: String?, port: Int, scheme: String? = nil) {
            self.hostname = hostname
            self.ip = ip
            self.port = port
            self.scheme = scheme
        }
    }
    public var id: String
    /// IPv4 address as an integer in network byte order (deprecated in Mesos, kept for old tools).
    public var ip: UInt32
    public var port: Int
    public var pid: String?
    public var hostname: String?
    public var version: String?
    public var address: Address?

    public init(id: String, ip: String, port: Int, hostname: String, version: String) {
        self.id = id
        self.ip = MasterInfo.packIPv4(ip)
        self.port = port
        self.pid = "master@\(ip):\(port)"
        self.hostname = hostname
        self.version = version
        self.address = Address(hostname: hostname, ip: ip, port: port)
    }

    /// Packs dotted IPv4 into the integer Mesos stores (network byte order read as little-endian).
    public static func packIPv4(_ ip: String) -> UInt32 {
        let parts = ip.split(separator: ".").compactMap { UInt32($0) }
        guard parts.count == 4 else { return 0 }
        return parts[0] | parts[1] << 8 | parts[2] << 16 | parts[3] << 24
    }
}

/// A bundle of resources on one agent offered to one framework, as Mesos's `Offer`.
public struct Offer: Codable, Hashable, Sendable {
    public struct AllocationInfo: Codable, Hashable, Sendable {
        public var role: String?
        public init(role: String?) { self.role = role }
    }
    public var id: OfferID
    public var frameworkId: FrameworkID
    public var agentId: AgentID
    public var hostname: String
    public var resources: [Resource]
    public var attributes: [Attribute]?
    public var executorIds: [ExecutorID]?
    public var allocationInfo: AllocationInfo?
    public var url: URLInfo?

    /// The agent's address, as Mesos's `URL` in offers.
    public struct URLInfo: Codable, Hashable, Sendable {
        public struct Address: Codable, Hashable, Sendable {
            public var hostname: String?
            public var ip: String?
            public var port: Int
        }
        public var scheme: String
        public var address: Address
        public var path: String?
    }

    public init(
        id: OfferID,
        frameworkId: FrameworkID,
        agentId: AgentID,
        hostname: String,
        resources: [Resource],
        attributes: [Attribute]? = nil,
        role: String? = nil
    ) {
        self.id = id
        self.frameworkId = frameworkId
        self.agentId = agentId
        self.hostname = hostname
        self.resources = resources
        self.attributes = attributes
        self.allocationInfo = role.map { AllocationInfo(role: $0) }
    }

    /// The offered resources as a bag for arithmetic.
    public var bag: Resources { (try? Resources(self.resources)) ?? Resources() }
}
