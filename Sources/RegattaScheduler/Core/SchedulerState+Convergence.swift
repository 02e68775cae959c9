// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Desired against actual: how many instances each app still waits for, and which instances must go.
extension SchedulerState {
    /// Instances of the app's current version that count toward its target. An unreachable instance counts until
    /// `unreachableStrategy.inactiveAfterSeconds` has passed (then a replacement is launched).
    public func activeCurrent(_ app: AppDefinition, now: Duration? = nil) -> [Instance] {
        self.instances(ofApp: app.id).filter {
            $0.isActive && $0.version == app.configVersion && !self.isInactive($0, app: app, now: now)
        }
    }

    /// Whether an unreachable instance no longer counts (its `inactiveAfterSeconds` passed, or the strategy is
    /// disabled... in which case it always counts).
    func isInactive(_ instance: Instance, app: AppDefinition, now: Duration?) -> Bool {
        guard instance.state == .unreachable else { return false }
        guard let inactiveAfter = app.unreachableStrategy.inactiveAfterSeconds else { return false }
        guard let since = self.unreachableSince[instance.id], let now else { return inactiveAfter <= 0 }
        return now - since >= Saturating.duration(seconds: inactiveAfter)
    }

    /// Whether an instance can replace an old one: running, and healthy when the app has health checks.
    public func isReady(_ instance: Instance, app: AppDefinition) -> Bool {
        guard instance.state == .running else { return false }
        return app.healthChecks.isEmpty || instance.healthy == true
    }

    /// How many of `activeCurrent(app, now:)` there are: O(1) from the app's tallies, unless an unreachable
    /// instance may have stopped counting (then the instances are walked).
    private func activeCurrentCount(_ app: AppDefinition, now: Duration?) -> Int {
        let counts = self.countsByApp[app.id] ?? AppInstanceCounts()
        if counts.activeUnreachable > 0 && app.unreachableStrategy.inactiveAfterSeconds != nil {
            return self.unorderedInstances(ofApp: app.id).count {
                $0.isActive && $0.version == app.configVersion && !self.isInactive($0, app: app, now: now)
            }
        }
        return counts.active[app.configVersion] ?? 0
    }

    /// Active instances of versions other than the app's current one.
    private func activeOldCount(_ app: AppDefinition) -> Int {
        let counts = self.countsByApp[app.id] ?? AppInstanceCounts()
        return counts.activeTotal - (counts.active[app.configVersion] ?? 0)
    }

    /// How many instances of `app` wait for an offer.
    public func pendingCount(_ app: AppDefinition, now: Duration? = nil) -> Int {
        let current = self.activeCurrentCount(app, now: now)
        let oldCount = self.activeOldCount(app)
        guard oldCount > 0 else { return max(0, app.instances - current) }
        let counts = self.countsByApp[app.id] ?? AppInstanceCounts()
        let oldRunning = counts.activeRunningTotal - (counts.activeRunning[app.configVersion] ?? 0)
        // Rolling replacement (Marathon's rule): never more than maxCapacity instances in all, but allow one
        // extra when the health capacity would otherwise leave no room to start anything.
        var capacity = Int(
            saturating: (Double(app.instances) * (1 + app.upgradeStrategy.maximumOverCapacity)).rounded(.down)
        )
        let minHealthy = Int(
            saturating: (Double(app.instances) * app.upgradeStrategy.minimumHealthCapacity).rounded(.up)
        )
        if minHealthy == capacity && capacity <= oldRunning {
            capacity += 1
        }
        let room = max(0, capacity - oldCount - current)
        return max(0, min(app.instances - current, room))
    }

    /// Whether any app waits for offers now.
    public func wantsOffers(now: Duration) -> Bool {
        self.apps.values.contains { self.pendingCount($0, now: now) > 0 && !self.isDelayed($0.id, now: now) }
    }

    /// Whether any app waits for offers now or after its delay.
    public var hasPendingLaunches: Bool {
        self.apps.values.contains { self.pendingCount($0) > 0 }
    }

    /// Consecutive constraint-only refusals after which a stuck rolling restart gives up one old instance.
    static let stallsBeforeBreaking = 3

    /// Instances to kill now: surplus after a scale-down and old versions replaced by ready new ones.
    /// They are marked `killRequested` and returned so the shell persists them and sends KILL.
    ///
    /// Which copy survives when an unreachable instance returns after its replacement started: the app's
    /// `killSelection` decides among the surplus, so with the default `YOUNGEST_FIRST` the returning original stays
    /// and the replacement is killed.
    public mutating func computeKills(now: Duration? = nil) -> [Instance] {
        var kills: [Instance] = []
        // Only apps with a surplus or an old version left, decided from the tallies (the common case is none): this
        // runs after every change, so it must not copy or sort every app.
        let due = self.apps.values.filter {
            self.activeOldCount($0) != 0 || self.activeCurrentCount($0, now: now) > $0.instances
        }
        for app in due.sorted(by: { $0.id < $1.id }) {
            // Kills are ordered below by a total order, so the instances need not be sorted here.
            let all = self.unorderedInstances(ofApp: app.id).filter(\.isActive)
            let current = all.filter { $0.version == app.configVersion && !self.isInactive($0, app: app, now: now) }
            let old = all.filter { $0.version != app.configVersion }
            // Scale down: not-yet-running first, then by killSelection.
            if current.count > app.instances {
                let ordered = current.sorted { lhs, rhs in
                    if (lhs.state == .running) != (rhs.state == .running) { return lhs.state != .running }
                    return app.killSelection == "OLDEST_FIRST"
                        ? (lhs.stagedAt, lhs.id) < (rhs.stagedAt, rhs.id)
                        : (lhs.stagedAt, lhs.id) > (rhs.stagedAt, rhs.id)
                }
                kills += ordered.prefix(current.count - app.instances)
            }
            // Rolling replacement: keep enough old instances to honour minimumHealthCapacity, counting only new
            // instances that are ready (running, and healthy when the app has health checks).
            if !old.isEmpty {
                let readyNew = min(current.filter { self.isReady($0, app: app) }.count, app.instances)
                let minHealthy = Int(
                    saturating: (Double(app.instances) * app.upgradeStrategy.minimumHealthCapacity).rounded(.up)
                )
                var keep = max(0, min(old.count, minHealthy - readyNew, app.instances - readyNew))
                // Stuck-rollout breaker: constraints (e.g. hostname:UNIQUE on a full cluster) refuse every offer
                // because old instances hold the places, and nothing new is starting. Marathon waits forever here;
                // Regatta gives up one old instance to make room.
                let starting = current.contains { $0.state != .running }
                if keep > 0, !starting, (self.constraintStalls[app.id] ?? 0) >= Self.stallsBeforeBreaking {
                    keep -= 1
                    self.constraintStalls[app.id] = 0
                }
                let ordered = old.sorted { (lhs, rhs) in
                    if (lhs.state == .running) != (rhs.state == .running) { return lhs.state != .running }
                    return (lhs.stagedAt, lhs.id) < (rhs.stagedAt, rhs.id)
                }
                kills += ordered.prefix(old.count - keep)
            }
        }
        for index in kills.indices {
            kills[index].killRequested = true
            self.put(kills[index])
        }
        return kills
    }
}
