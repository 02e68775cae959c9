// SPDX-License-Identifier: Apache-2.0

/// Stand-in for the TLS settings `MasterConfiguration.tls` holds, whose real definition imports NIOSSL
/// (`RegattaHTTP/TLS/TLSSettings.swift`). The harnesses never set it.
public struct TLSSettings: Sendable {}
