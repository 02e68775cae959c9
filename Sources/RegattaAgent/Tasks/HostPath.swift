// SPDX-License-Identifier: Apache-2.0
import Glibc
import RegattaCore

/// Resolves host paths the way the kernel will when Docker mounts them, so the container policy judges the real
/// target rather than a symlink's name.
enum HostPath {
    /// `path` (absolute, without `..`) with every symlink of its existing part resolved (`realpath`); the part that
    /// does not exist yet (Docker creates it) is appended as written.
    static func resolve(_ path: String) -> String {
        var existing = ContainerPolicy.normalized(path)
        var missing: [Substring] = []
        while true {
            if let resolved = Self.realPath(existing) {
                guard !missing.isEmpty else { return resolved }
                let suffix = missing.reversed().joined(separator: "/")
                return resolved == "/" ? "/" + suffix : resolved + "/" + suffix
            }
            guard existing != "/", let slash = existing.lastIndex(of: "/") else { return path }
            missing.append(existing[existing.index(after: slash)...])
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
    }

    /// `policy` with the resolved form of each allowed path added, so that an allowed directory that is itself a
    /// symlink (`/srv` → `/data/srv`) still allows what lies under its target.
    static func resolvingAllowedPaths(of policy: ContainerPolicy, with resolve: (String) -> String) -> ContainerPolicy {
        var resolved = policy
        for path in policy.allowedHostPaths.map(resolve) where !resolved.allowedHostPaths.contains(path) {
            resolved.allowedHostPaths.append(path)
        }
        return resolved
    }

    /// `realpath(3)`, or `nil` when the path does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
