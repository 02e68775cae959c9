// SPDX-License-Identifier: Apache-2.0

/// Safe by default: a daemon that would listen on an address others can reach, with nobody authenticated, refuses to
/// start unless the operator opted out explicitly.
public enum ListenerExposure {
    /// Whether `host` (an IP address or a name from a listen flag) is reachable only from this machine.
    ///
    /// `127.0.0.0/8`, `::1` and `localhost` are loopback; anything else (including `0.0.0.0`, `::` and host names)
    /// is treated as reachable.
    public static func isLoopback(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }

    /// Checks a daemon's listen address against its authentication settings.
    ///
    /// - Parameters:
    ///   - daemon: `master`, `agent` or `scheduler`, for the message.
    ///   - host: the address the daemon listens on.
    ///   - authenticated: whether callers must authenticate (credentials given and not turned off).
    ///   - insecureOptOut: `--insecure_allow_unauthenticated`.
    ///   - credentialsFlag: the flag that gives credentials and its form (`--credentials FILE`,
    ///     `--http_credentials user:password`).
    /// - Throws: ``SecurityError`` with one line naming the flag and the opt-out.
    public static func check(
        daemon: String,
        host: String,
        authenticated: Bool,
        insecureOptOut: Bool,
        credentialsFlag: String
    ) throws {
        if authenticated || insecureOptOut || Self.isLoopback(host) { return }
        throw SecurityError(
            .unauthenticatedListener,
            "Refusing to start the \(daemon) on \(host) without authentication: anyone who reaches it could run "
                + "commands on the cluster. Give \(credentialsFlag), listen on 127.0.0.1, or pass "
                + "--insecure_allow_unauthenticated to accept the risk."
        )
    }
}
