// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import RegattaCore

/// Resolves daemon flags from the command line, then `REGATTA_<FLAG>`, then `MESOS_<FLAG>` (Mesos's drop-in names).
enum FlagEnvironment {
    /// The environment value for a flag name such as `work_dir`.
    static func value(_ flag: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let key = flag.uppercased()
        return environment["REGATTA_\(key)"] ?? environment["MESOS_\(key)"]
    }

    /// A string flag: the command-line value, else the environment, else `fallback`.
    static func string(_ cli: String?, _ flag: String, default fallback: String? = nil) -> String? {
        cli ?? self.value(flag) ?? fallback
    }

    /// An integer flag. - Throws: a one-line `ValidationError` naming the flag.
    static func int(_ cli: Int?, _ flag: String, default fallback: Int) throws -> Int {
        if let cli { return cli }
        guard let text = self.value(flag) else { return fallback }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("--\(flag): '\(text)' is not an integer.")
        }
        return value
    }

    /// A positive integer flag (a count or a limit). - Throws: a one-line `ValidationError` naming the flag.
    static func positiveInt(_ cli: Int?, _ flag: String, default fallback: Int) throws -> Int {
        let value = try self.int(cli, flag, default: fallback)
        guard value >= 1 else {
            throw ValidationError("--\(flag): \(value) is less than 1; give a positive integer (default \(fallback)).")
        }
        return value
    }

    /// A duration flag in Mesos's form (`15secs`). - Throws: a `ValidationError` naming the flag.
    static func duration(_ cli: String?, _ flag: String, default fallback: Duration?) throws -> Duration? {
        guard let text = cli ?? self.value(flag) else { return fallback }
        do {
            return try MesosDuration.parse(text)
        } catch let error as CoreError {
            throw ValidationError("--\(flag): \(error.message)")
        }
    }

    /// A boolean flag: set on the command line, else `true`/`1` or `false`/`0` in the environment, else `false`.
    /// - Throws: a one-line `ValidationError` naming the flag for any other environment value.
    static func bool(_ cli: Bool, _ flag: String) throws -> Bool {
        if cli { return true }
        guard let text = self.value(flag) else { return false }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1": return true
        case "false", "0", "": return false
        default: throw ValidationError("--\(flag): '\(text)' is not a boolean; use true or false.")
        }
    }

    /// The container policy from `--allowed_host_paths` and `--allow_privileged`, shared by the agent and the
    /// scheduler. - Throws: a one-line `ValidationError` naming the flag.
    static func containerPolicy(allowedHostPaths: String?, allowPrivileged: Bool) throws -> ContainerPolicy {
        var policy = ContainerPolicy(allowPrivileged: try self.bool(allowPrivileged, "allow_privileged"))
        if let text = self.string(allowedHostPaths, "allowed_host_paths") {
            do {
                policy.allowedHostPaths = try ContainerPolicy.parseAllowedHostPaths(text)
            } catch {
                throw ValidationError("--allowed_host_paths: \(error.problem).")
            }
        }
        return policy
    }

    /// A port flag. - Throws: a `ValidationError` naming the flag when outside 1–65535.
    static func port(_ cli: Int?, _ flag: String, default fallback: Int) throws -> Int {
        let port = try self.int(cli, flag, default: fallback)
        guard (1...65535).contains(port) else {
            throw ValidationError("--\(flag): \(port) is not a port; use 1-65535.")
        }
        return port
    }
}
