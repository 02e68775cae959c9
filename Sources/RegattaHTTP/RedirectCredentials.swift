// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOHTTP1

/// The rule every Regatta client follows a redirect by: credentials never go to another origin.
///
/// A client that re-sends a request to the `Location` of a redirect keeps `Authorization` (and `Proxy-Authorization`,
/// `Cookie`) only when the new URL has the same scheme, host and port as the one that answered; AsyncHTTPClient's own
/// redirect following does the same.
public enum RedirectCredentials {
    /// The headers to re-send to `target` after `origin` redirected there.
    public static func headers(_ headers: HTTPHeaders, from origin: URL, to target: URL) -> HTTPHeaders {
        guard !Self.sameOrigin(origin, target) else { return headers }
        var headers = headers
        for name in ["Authorization", "Proxy-Authorization", "Cookie"] { headers.remove(name: name) }
        return headers
    }

    /// Whether `a` and `b` have the same scheme, host and port (a missing port is the scheme's default).
    public static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func origin(_ url: URL) -> (String, String, Int)? {
            guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
            return (scheme, host, url.port ?? (scheme == "https" ? 443 : 80))
        }
        guard let first = origin(a), let second = origin(b) else { return false }
        return first == second
    }
}
