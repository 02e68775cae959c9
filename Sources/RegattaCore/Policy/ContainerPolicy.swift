// SPDX-License-Identifier: Apache-2.0

/// What an operator lets tasks do to the machine they run on: which host paths they may mount and whether they may
/// have host privileges.
///
/// One policy decides for both the scheduler's app validator and the agent, so an app the API accepts is one the
/// agents run. The policy is pure: the agent resolves symlinks (`realpath`) itself and asks again about the
/// resolved path.
///
/// - Host paths: a relative host path is inside the task's sandbox and always allowed; an absolute one only under
///   one of ``allowedHostPaths`` (`--allowed_host_paths`, default none). A path with a `..` component is refused
///   either way.
/// - Privileges: `privileged` and every Docker parameter that gives host access (``DockerParameter/Access``) only
///   with ``allowPrivileged`` (`--allow_privileged`, default off).
/// - Docker parameters: only those in ``DockerParameter/supported`` are accepted, each parsed here so that a
///   malformed value is refused by the API, not at every launch.
public struct ContainerPolicy: Sendable, Hashable {
    /// Absolute, normalized host directories whose contents tasks may mount. Defaults to none.
    public var allowedHostPaths: [String]
    /// Whether tasks may run privileged containers or use host-access Docker parameters. Defaults to `false`.
    public var allowPrivileged: Bool

    /// Creates a policy; the defaults allow no host path and no privileges.
    public init(allowedHostPaths: [String] = [], allowPrivileged: Bool = false) {
        self.allowedHostPaths = allowedHostPaths.map(Self.normalized)
        self.allowPrivileged = allowPrivileged
    }

    /// The flag naming the allowed host paths.
    public static let allowedHostPathsFlag = "--allowed_host_paths"
    /// The flag allowing privileged containers and host-access parameters.
    public static let allowPrivilegedFlag = "--allow_privileged"

    /// Parses `--allowed_host_paths`: absolute paths separated by commas, without `..`.
    ///
    /// - Throws: ``ContainerPolicyViolation`` naming the first unusable entry.
    public static func parseAllowedHostPaths(_ text: String) throws(ContainerPolicyViolation) -> [String] {
        var paths: [String] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let path = entry.trimmingASCIIWhitespace()
            guard !path.isEmpty else {
                throw ContainerPolicyViolation("'\(text)' has an empty entry; give absolute paths separated by commas")
            }
            guard path.hasPrefix("/"), !Self.hasDotDot(path), !path.contains("\0") else {
                throw ContainerPolicyViolation(
                    "'\(path)' is not an absolute path without '..'; give absolute paths such as /srv/data"
                )
            }
            paths.append(Self.normalized(path))
        }
        return paths
    }

    // MARK: - Privileged

    /// Refuses a privileged container unless ``allowPrivileged``.
    public func checkPrivileged(_ privileged: Bool?) -> ContainerPolicyViolation? {
        guard privileged == true, !self.allowPrivileged else { return nil }
        return ContainerPolicyViolation(
            "privileged containers are not allowed",
            flag: Self.allowPrivilegedFlag
        )
    }

    // MARK: - Host paths

    /// Checks a volume's host path as written, without looking at the file system.
    ///
    /// A relative path (inside the sandbox) is allowed; an absolute one must lie under an allowed path. The agent
    /// calls ``checkResolvedHostPath(_:)`` again once symlinks are resolved.
    public func checkHostPath(_ hostPath: String) -> ContainerPolicyViolation? {
        if hostPath.isEmpty {
            return ContainerPolicyViolation(
                "the host path is empty; give a path inside the sandbox or under an allowed path"
            )
        }
        if hostPath.contains("\0") {
            return ContainerPolicyViolation("host path '\(hostPath)' contains a NUL character")
        }
        if Self.hasDotDot(hostPath) {
            return ContainerPolicyViolation("host path '\(hostPath)' contains '..'; give the path without '..'")
        }
        guard hostPath.hasPrefix("/") else { return nil }
        return self.checkResolvedHostPath(hostPath)
    }

    /// Checks an absolute host path whose symlinks are resolved: it must lie under an allowed path.
    public func checkResolvedHostPath(_ path: String) -> ContainerPolicyViolation? {
        let normalized = Self.normalized(path)
        if self.allowedHostPaths.contains(where: { Self.isInside(normalized, root: $0) }) { return nil }
        let allowed = (self.allowedHostPaths + [normalized]).joined(separator: ",")
        return ContainerPolicyViolation(
            "host path '\(normalized)' is not under \(Self.allowedHostPathsFlag)",
            flag: "\(Self.allowedHostPathsFlag)=\(allowed)"
        )
    }

    // MARK: - Docker parameters

    /// Parses a Docker parameter and checks it against the policy.
    ///
    /// - Throws: ``ContainerPolicyViolation`` for an unsupported key, a malformed value, or a host-access parameter
    ///   without ``allowPrivileged``.
    public func dockerParameter(key: String, value: String) throws(ContainerPolicyViolation) -> DockerParameter {
        let parameter = try DockerParameter.parse(key: key, value: value)
        if parameter.access == .host, !self.allowPrivileged {
            throw ContainerPolicyViolation(
                "the Docker parameter '\(key)=\(value)' gives the container access to the host",
                flag: Self.allowPrivilegedFlag
            )
        }
        return parameter
    }

    // MARK: - Paths

    /// `path` with `.` and repeated slashes removed (`..` is kept: callers refuse it first).
    public static func normalized(_ path: String) -> String {
        let components = PathComponents.split(path).filter { !PathComponents.isDot($0) }
        return (PathComponents.isAbsolute(path) ? "/" : "") + components.joined(separator: "/")
    }

    /// Whether `path` is `root` or lies below it (both absolute and normalized).
    public static func isInside(_ path: String, root: String) -> Bool {
        // Bytes, not `String`'s `==`/`hasPrefix`, which compare under canonical equivalence: a differently
        // normalized name is another directory on disk.
        root == "/" || path.utf8.elementsEqual(root.utf8) || path.utf8.starts(with: (root + "/").utf8)
    }

    /// Whether `path` has a `..` component.
    public static func hasDotDot(_ path: String) -> Bool {
        PathComponents.split(path).contains(where: PathComponents.isDotDot)
    }
}

/// Why a task or app is refused by the ``ContainerPolicy``, and which flag would allow it.
public struct ContainerPolicyViolation: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is refused, e.g. `host path '/' is not under --allowed_host_paths`.
    public var problem: String
    /// The flag (with its value) that would allow it, e.g. `--allowed_host_paths=/`; `nil` when no flag does.
    public var flag: String?

    /// Describes a refusal.
    public init(_ problem: String, flag: String? = nil) {
        self.problem = problem
        self.flag = flag
    }

    /// The refusal as a sentence for `daemons` (`"agent"`, `"scheduler and its agents"`), naming the flag.
    public func message(for daemons: String) -> String {
        guard let flag else { return self.problem }
        return "\(self.problem); start the \(daemons) with \(flag) to allow it"
    }

    /// The refusal as the agent reports it.
    public var description: String { self.message(for: "agent") }
}

extension Substring {
    func trimmingASCIIWhitespace() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
