// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Checks an ``AppDefinition`` against Marathon's rules and Regatta's safety rules, producing the `details`
/// of Marathon's 422 response (`{"path":"/cpus","errors":["must be >= 0.001"]}`).
///
/// Every rule is checked and every violation reported, grouped by JSON pointer (one entry per path) in a
/// stable order: id, command, resources, env, constraints, ports, container, health checks, scheduling.
/// An empty result means the app is valid.
///
/// Beyond Marathon, Regatta refuses (reliability.md §4, §5):
/// - what the operator's ``ContainerPolicy`` does not allow (`--allowed_host_paths`, `--allow_privileged`): the
///   agents apply the same policy, so an app accepted here is not refused at every launch; Docker parameters
///   Regatta does not support;
/// - more entries than an app may carry (``maximumLabels`` and the other caps), so one app cannot grow the
///   scheduler's memory, store and offer matching without bound;
/// - `.`/`..` and empty id segments (Regatta does not resolve relative ids here);
/// - more than one agent-run health check (`COMMAND` or `MESOS_*`), since a Mesos task carries one;
/// - a `MESOS` container with a Docker image, which Regatta's agents do not run;
/// - amounts and durations so large that they cannot be represented exactly (over `1e9` or ten years).
///
/// Like Marathon, a health check whose `timeoutSeconds` exceeds its `intervalSeconds` is accepted.
public enum AppValidator {
    /// The largest accepted `cpus`, `mem`, `disk` or `gpus`: far beyond any machine, well within
    /// RegattaCore's fixed-point range.
    static let maximumAmount: Double = 1_000_000_000
    /// The largest accepted duration in seconds (ten years).
    static let maximumSeconds: Double = 315_360_000
    /// The largest accepted count (`instances`, `maxConsecutiveFailures`), Marathon's int32.
    static let maximumCount = Int(Int32.max)

    /// The most labels an app may carry.
    static let maximumLabels = 100
    /// The most environment variables an app may carry.
    static let maximumEnvironment = 100
    /// The most constraints an app may carry.
    static let maximumConstraints = 50
    /// The most health checks an app may carry.
    static let maximumHealthChecks = 20
    /// The most port definitions (or port mappings) an app may carry.
    static let maximumPorts = 100
    /// The most fetch URIs an app may carry.
    static let maximumFetchURIs = 64
    /// The most Docker parameters (and volumes) an app may carry.
    static let maximumDockerParameters = 100

    /// Returns every rule `app` breaks, grouped by JSON pointer; empty when the app is valid.
    ///
    /// - Parameter policy: what the operator allows containers (`--allowed_host_paths`, `--allow_privileged`);
    ///   defaults to nothing beyond the sandbox.
    public static func validate(
        _ app: AppDefinition,
        policy: ContainerPolicy = ContainerPolicy()
    )
        -> [ValidationViolation]
    {
        var violations = ViolationCollector()
        self.validateCounts(app, into: &violations)
        self.validateID(app.id, into: &violations)
        self.validateCommand(app, into: &violations)
        self.validateResources(app, into: &violations)
        self.validateEnvironment(app, into: &violations)
        self.validateConstraints(app.constraints, into: &violations)
        self.validatePortDefinitions(app, into: &violations)
        self.validateContainer(app, policy: policy, into: &violations)
        self.validateHealthChecks(app, into: &violations)
        self.validateScheduling(app, into: &violations)
        return violations.violations
    }

    // MARK: counts

    /// Refuses apps that carry more entries than the caps allow; the field is named in the path.
    static func validateCounts(_ app: AppDefinition, into violations: inout ViolationCollector) {
        let counts: [(String, Int, Int)] = [
            ("/labels", app.labels.count, self.maximumLabels),
            ("/env", app.env.count, self.maximumEnvironment),
            ("/constraints", app.constraints.count, self.maximumConstraints),
            ("/healthChecks", app.healthChecks.count, self.maximumHealthChecks),
            ("/portDefinitions", app.portDefinitions.count, self.maximumPorts),
            ("/container/portMappings", app.container?.portMappings?.count ?? 0, self.maximumPorts),
            ("/container/docker/portMappings", app.container?.docker?.portMappings?.count ?? 0, self.maximumPorts),
            ("/container/volumes", app.container?.volumes?.count ?? 0, self.maximumDockerParameters),
            ("/fetch", app.fetch.count, self.maximumFetchURIs),
        ]
        for (path, count, maximum) in counts where count > maximum {
            violations.add(path, "must have at most \(maximum) entries (has \(count))")
        }
    }

    // MARK: id

    /// Lowercase letters and digits, `-` inside labels, labels joined by `.`: Marathon's PathId segment rule.
    static let idSegmentPattern =
        #"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$"#
    static let reservedIDSuffixes: Set<String> = ["restart", "tasks", "versions"]

    static func validateID(_ id: String, into violations: inout ViolationCollector) {
        let path = "/id"
        guard !id.isEmpty else {
            violations.add(path, "is required; give the app an id such as /prod/web")
            return
        }
        let body = id.hasPrefix("/") ? id.dropFirst() : Substring(id)
        guard !body.isEmpty else {
            violations.add(path, "must name an app, not the root group; use an id such as /prod/web")
            return
        }
        let segments = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.contains(where: \.isEmpty) {
            violations.add(path, "must not contain empty segments or end with '/'; remove the extra '/' in '\(id)'")
        }
        for segment in segments where !segment.isEmpty {
            if segment == "." || segment == ".." {
                violations.add(path, "segment '\(segment)' is not allowed; write the absolute id without '.' or '..'")
            } else if !self.isValidIDSegment(segment) {
                violations.add(
                    path,
                    "segment '\(segment)' must match \(self.idSegmentPattern); "
                        + "use lowercase letters, digits, '-' and '.', "
                        + "starting and ending each part with a letter or digit"
                )
            }
        }
        if let last = segments.last, self.reservedIDSuffixes.contains(last) {
            violations.add(
                path,
                "must not end with '\(last)'; 'restart', 'tasks' and 'versions' are reserved by the API"
            )
        }
    }

    /// Whether `segment` matches ``idSegmentPattern``.
    static func isValidIDSegment(_ segment: String) -> Bool {
        segment.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return label.allSatisfy { self.isLowercaseAlphanumeric($0) || $0 == "-" }
                && self.isLowercaseAlphanumeric(first) && self.isLowercaseAlphanumeric(last)
        }
    }

    static func isLowercaseAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isLowercase || character.isNumber)
    }

    // MARK: cmd, args

    static func validateCommand(_ app: AppDefinition, into violations: inout ViolationCollector) {
        let hasCmd = app.cmd != nil
        let hasArgs = !(app.args ?? []).isEmpty
        if let cmd = app.cmd, cmd.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            violations.add("/cmd", "must not be empty; give a shell command or leave cmd out")
        }
        if let first = app.args?.first, first.isEmpty {
            violations.add("/args/0", "must not be empty; it is the program to run")
        }
        if hasCmd && hasArgs {
            violations.add(
                "/args",
                "cannot be combined with cmd; give either cmd (run by /bin/sh -c) or args (an argument vector)"
            )
        } else if !hasCmd && !hasArgs && !self.runsDockerImage(app) {
            violations.add("/cmd", "is required: give cmd or args, or a DOCKER container with an image")
        }
    }

    /// Whether the app runs a Docker image, which may bring its own entrypoint.
    static func runsDockerImage(_ app: AppDefinition) -> Bool {
        guard let container = app.container, (container.type ?? "DOCKER") == "DOCKER" else { return false }
        return !(container.docker?.image.trimmingCharacters(in: .whitespaces).isEmpty ?? true)
    }

    // MARK: resources

    static func validateResources(_ app: AppDefinition, into violations: inout ViolationCollector) {
        self.validateAmount(app.cpus, minimum: 0.001, at: "/cpus", into: &violations)
        self.validateAmount(app.mem, minimum: 0, at: "/mem", into: &violations)
        self.validateAmount(app.disk, minimum: 0, at: "/disk", into: &violations)
        self.validateAmount(app.gpus, minimum: 0, at: "/gpus", into: &violations)
        violations.require(app.instances >= 0, "/instances", "must be >= 0")
        violations.require(app.instances <= self.maximumCount, "/instances", "must be <= \(self.maximumCount)")
    }

    static func validateAmount(
        _ value: Double,
        minimum: Double,
        at path: String,
        into violations: inout ViolationCollector
    ) {
        if !(value >= minimum) {
            violations.add(path, "must be >= \(ViolationCollector.number(minimum))")
        } else if value > self.maximumAmount {
            violations.add(path, "must be <= \(ViolationCollector.number(self.maximumAmount))")
        }
    }

    // MARK: env

    static func validateEnvironment(_ app: AppDefinition, into violations: inout ViolationCollector) {
        for name in app.env.keys.sorted() {
            let path = "/env/" + ViolationCollector.token(name)
            if name.isEmpty {
                violations.add(path, "variable names must not be empty")
            } else if name.contains("=") || name.contains("\0") {
                violations.add(path, "variable name '\(name)' must not contain '=' or NUL")
            }
        }
        for (index, fetch) in app.fetch.enumerated() where fetch.uri.trimmingCharacters(in: .whitespaces).isEmpty {
            violations.add("/fetch/\(index)/uri", "must not be empty; give the URI to download into the sandbox")
        }
    }

    // MARK: backoff, upgrade, kill, unreachable

    static func validateScheduling(_ app: AppDefinition, into violations: inout ViolationCollector) {
        self.validateSeconds(app.backoffSeconds, at: "/backoffSeconds", into: &violations)
        violations.require(app.backoffFactor >= 1, "/backoffFactor", "must be >= 1")
        self.validateSeconds(app.maxLaunchDelaySeconds, at: "/maxLaunchDelaySeconds", into: &violations)

        let upgrade = app.upgradeStrategy
        violations.require(
            (0...1).contains(upgrade.minimumHealthCapacity),
            "/upgradeStrategy/minimumHealthCapacity",
            "must be between 0 and 1"
        )
        violations.require(
            (0...1).contains(upgrade.maximumOverCapacity),
            "/upgradeStrategy/maximumOverCapacity",
            "must be between 0 and 1"
        )

        violations.require(
            ["YOUNGEST_FIRST", "OLDEST_FIRST"].contains(app.killSelection),
            "/killSelection",
            "must be YOUNGEST_FIRST or OLDEST_FIRST"
        )

        let unreachable = app.unreachableStrategy
        if let inactive = unreachable.inactiveAfterSeconds {
            self.validateSeconds(inactive, at: "/unreachableStrategy/inactiveAfterSeconds", into: &violations)
            if let expunge = unreachable.expungeAfterSeconds {
                self.validateSeconds(expunge, at: "/unreachableStrategy/expungeAfterSeconds", into: &violations)
                violations.require(
                    inactive <= expunge,
                    "/unreachableStrategy/inactiveAfterSeconds",
                    "must be <= expungeAfterSeconds (\(ViolationCollector.number(expunge)))"
                )
            } else {
                violations.add(
                    "/unreachableStrategy/expungeAfterSeconds",
                    "is required with inactiveAfterSeconds; give both"
                )
            }
        }

        if let grace = app.taskKillGracePeriodSeconds {
            if !(grace > 0) {
                violations.add(
                    "/taskKillGracePeriodSeconds",
                    "must be > 0 when set; leave it out to use the agent's default"
                )
            } else {
                self.validateSeconds(grace, at: "/taskKillGracePeriodSeconds", into: &violations)
            }
        }

        if let roles = app.acceptedResourceRoles {
            if roles.isEmpty {
                violations.add(
                    "/acceptedResourceRoles",
                    "must not be empty when set; leave it out or list roles such as [\"*\"]"
                )
            }
            for (index, role) in roles.enumerated() where role.isEmpty {
                violations.add(
                    "/acceptedResourceRoles/\(index)",
                    "must not be empty; use \"*\" for unreserved resources"
                )
            }
        }
    }

    /// Checks a duration in seconds: `>= 0` and at most ten years.
    static func validateSeconds(_ value: Double, at path: String, into violations: inout ViolationCollector) {
        if !(value >= 0) {
            violations.add(path, "must be >= 0")
        } else if value > self.maximumSeconds {
            violations.add(path, "must be <= \(ViolationCollector.number(self.maximumSeconds)) (ten years)")
        }
    }
}
