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

    /// A port flag. - Throws: a `ValidationError` naming the flag when outside 1–65535.
    static func port(_ cli: Int?, _ flag: String, default fallback: Int) throws -> Int {
        let port = try self.int(cli, flag, default: fallback)
        guard (1...65535).contains(port) else {
            throw ValidationError("--\(flag): \(port) is not a port; use 1-65535.")
        }
        return port
    }
}
