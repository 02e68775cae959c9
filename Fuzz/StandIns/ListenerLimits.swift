// SPDX-License-Identifier: Apache-2.0

/// Stand-ins for the two HTTP-layer names `MasterConfiguration` refers to, whose real definitions import NIO and
/// Hummingbird (`RegattaHTTP/Server/ListenerLimits.swift`, `RegattaMaster/HTTP/MasterRoutes.swift`). The harnesses
/// never use them; `scripts/fuzz.sh` drops `import RegattaHTTP` from the files it compiles.
public struct ListenerLimits: Sendable {
    public var maximumConnections = 4096
    public var idleTimeout: Duration = .seconds(60)
    public var maximumBodySize = 8 << 20
    public var maximumHeaderSize = 80 * 1024

    public static let defaultMaximumConnections = 4096
    public static let defaultMasterMaximumConnections = 16384

    public init() {}

    public init(maximumConnections: Int, idleTimeout: Duration = .seconds(60), maximumBodySize: Int) {
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.maximumBodySize = maximumBodySize
    }
}

/// See ``ListenerLimits``.
public enum HTTPSupport {
    public static let maximumBodySize = 16 << 20
}
