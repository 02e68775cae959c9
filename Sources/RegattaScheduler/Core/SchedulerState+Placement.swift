// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Placement: which waiting instances an offer round launches, where, and the statistics `/v2/queue` shows.
extension SchedulerState {
    /// Matches offers against the launch queue. Planned instances are added to the state at once;
    /// if persisting them fails, call ``rollback(_:)``.
    ///
    /// - Parameter makeUUID: yields a fresh UUID string per instance.
    /// - Returns: launches, and the offers nothing was launched on (to decline).
    public mutating func match(
        offers: [Offer],
        now: Duration,
        timestamp: String,
        makeUUID: () -> String
    ) -> (launches: [PlannedLaunch], unused: [OfferID]) {
        var launches: [PlannedLaunch] = []
        var unused: [OfferID] = []
        let apps = self.apps.values.filter { !self.isDelayed($0.id, now: now) }.sorted { $0.id < $1.id }
        var pending: [String: Int] = [:]
        for app in apps { pending[app.id] = self.pendingCount(app, now: now) }
        /// The apps still waiting for instances this round, in id order; an app leaves once it has none left.
        var waiting = apps.filter { pending[$0.id, default: 0] > 0 }
        // Flow control: launch no more than the free launch slots, spread over the round's offers.
        var budget = min(
            waiting.reduce(0) { $0 + pending[$1.id, default: 0] },
            max(0, self.configuration.maxLaunchesInFlight - self.launchesInFlight)
        )
        let perOffer =
            offers.isEmpty
            ? 0 : min(self.configuration.maxInstancesPerOffer, (budget + offers.count - 1) / offers.count)
        // Each constrained app's placed values, tallied once per round and extended as we place: checking an offer
        // allocates nothing and rescans nothing.
        var placedByApp: [String: ConstraintTally] = [:]
        for offer in offers {
            guard !waiting.isEmpty, budget > 0 else {
                unused.append(offer.id)
                continue
            }
            let limit = min(perOffer, budget)
            var remaining = offer.bag
            var ports = remaining.ranges("ports")
            var tasks: [TaskInfo] = []
            var planned: [Instance] = []
            var filled = false
            let placement = ConstraintMatcher.Placement(hostname: offer.hostname, attributes: offer.attributes ?? [])
            for app in waiting {
                // An offer at its limit is not considered for the apps after it (nor counted in their statistics).
                if tasks.count >= limit { break }
                var placedHere = 0
                var rejection: String?
                while pending[app.id, default: 0] > 0 && tasks.count < limit {
                    if let reason = Self.insufficiency(app, remaining: remaining) {
                        rejection = reason
                        break
                    }
                    guard let hostPorts = TaskFactory.hostPorts(for: app, available: ports) else {
                        rejection = "InsufficientPorts"
                        break
                    }
                    if !app.constraints.isEmpty {
                        if placedByApp[app.id] == nil {
                            placedByApp[app.id] = ConstraintTally(
                                constraints: app.constraints,
                                placed: self.instances(ofApp: app.id).filter { !$0.state.isTerminal }
                                    .compactMap { self.placements[$0.id] }
                            )
                        }
                        guard placedByApp[app.id]!.matches(placement)
                        else {
                            rejection = "UnfulfilledConstraint"
                            break
                        }
                    }
                    let ids = Instance.makeIDs(appId: app.id, uuid: makeUUID())
                    let role = offer.allocationInfo?.role ?? "*"
                    let task = TaskFactory.makeTask(
                        app: app,
                        taskID: ids.task,
                        offer: offer,
                        hostPorts: hostPorts,
                        role: role,
                        resources: remaining
                    )
                    remaining -= task.resources
                    if !hostPorts.isEmpty { ports = ports.subtracting(RangeSet(values: hostPorts.map(UInt64.init))) }
                    let instance = Instance(
                        id: ids.instance,
                        appId: app.id,
                        version: app.configVersion,
                        taskId: ids.task,
                        agentId: offer.agentId,
                        host: offer.hostname,
                        ports: hostPorts,
                        stagedAt: timestamp
                    )
                    self.insert(instance)
                    self.placements[instance.id] = placement
                    if !app.constraints.isEmpty { placedByApp[app.id]!.add(placement) }
                    tasks.append(task)
                    planned.append(instance)
                    pending[app.id, default: 0] -= 1
                    placedHere += 1
                }
                if pending[app.id, default: 0] == 0 { filled = true }
                self.record(
                    app.id,
                    placed: placedHere,
                    rejection: placedHere > 0 ? nil : rejection,
                    timestamp: timestamp
                )
            }
            budget -= tasks.count
            if filled { waiting.removeAll { pending[$0.id, default: 0] == 0 } }
            if tasks.isEmpty {
                unused.append(offer.id)
            } else {
                launches.append(PlannedLaunch(offer: offer, tasks: tasks, instances: planned))
            }
        }
        return (launches, unused)
    }

    /// Which resource an offer lacks for one instance of `app`, as Marathon names the reasons.
    static func insufficiency(_ app: AppDefinition, remaining: Resources) -> String? {
        if remaining.scalar("cpus") < Scalar(app.cpus) { return "InsufficientCpus" }
        if remaining.scalar("mem") < Scalar(app.mem) { return "InsufficientMemory" }
        if app.disk > 0 && remaining.scalar("disk") < Scalar(app.disk) { return "InsufficientDisk" }
        if app.gpus > 0 && remaining.scalar("gpus") < Scalar(app.gpus) { return "InsufficientGpus" }
        return nil
    }

    mutating func record(_ appId: String, placed: Int, rejection: String?, timestamp: String) {
        // Changed in place: copying the statistics out and back would copy its `rejections` per offer and app.
        self.offerStatistics[appId, default: OfferStatistics()].processedOffersCount += 1
        if placed > 0 {
            self.offerStatistics[appId]!.lastUsedOfferAt = timestamp
            self.constraintStalls[appId] = 0
        } else {
            self.offerStatistics[appId]!.unusedOffersCount += 1
            self.offerStatistics[appId]!.lastUnusedOfferAt = timestamp
            if let rejection {
                self.offerStatistics[appId]!.rejections[rejection, default: 0] += 1
                if rejection == "UnfulfilledConstraint" {
                    self.constraintStalls[appId, default: 0] += 1
                } else {
                    self.constraintStalls[appId] = 0
                }
            }
        }
    }
}
