// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Running tallies of one app's instances, updated on every instance change so the scheduler's per-event
/// decisions (pending launches, kills, finished deployments) need not walk, sort and copy the app's instances.
struct AppInstanceCounts: Sendable, Hashable {
    /// All instances of the app, active or not.
    private(set) var total = 0
    /// Active instances (not terminal, no kill requested).
    private(set) var activeTotal = 0
    /// Active instances in `TASK_RUNNING`.
    private(set) var activeRunningTotal = 0
    /// Active instances in `TASK_UNREACHABLE` (they may stop counting after `inactiveAfterSeconds`).
    private(set) var activeUnreachable = 0
    /// All instances by version, active or not.
    private(set) var byVersion: [String: Int] = [:]
    /// Active instances by version.
    private(set) var active: [String: Int] = [:]
    /// Active running instances by version.
    private(set) var activeRunning: [String: Int] = [:]
    /// Active running instances reported healthy, by version.
    private(set) var activeRunningHealthy: [String: Int] = [:]

    /// Whether no instance is counted.
    var isEmpty: Bool { self.total == 0 }

    /// Counts an instance in.
    mutating func add(_ instance: Instance) { self.apply(instance, sign: 1) }

    /// Counts an instance out (exactly as it was counted in).
    mutating func subtract(_ instance: Instance) { self.apply(instance, sign: -1) }

    /// Ready instances of `version`: running, and healthy when the app has health checks.
    func ready(version: String, healthChecked: Bool) -> Int {
        (healthChecked ? self.activeRunningHealthy[version] : self.activeRunning[version]) ?? 0
    }

    private mutating func apply(_ instance: Instance, sign: Int) {
        self.total += sign
        Self.bump(&self.byVersion, instance.version, by: sign)
        guard instance.isActive else { return }
        self.activeTotal += sign
        Self.bump(&self.active, instance.version, by: sign)
        if instance.state == .unreachable { self.activeUnreachable += sign }
        if instance.state == .running {
            self.activeRunningTotal += sign
            Self.bump(&self.activeRunning, instance.version, by: sign)
            if instance.healthy == true { Self.bump(&self.activeRunningHealthy, instance.version, by: sign) }
        }
    }

    private static func bump(_ counts: inout [String: Int], _ key: String, by delta: Int) {
        let value = counts[key, default: 0] + delta
        counts[key] = value == 0 ? nil : value
    }
}
