// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Offers: a round launches what fits (instances written first), declines the rest for as long as suits why, and
/// REVIVE or SUPPRESS tells the master whether the scheduler wants offers at all.
extension SchedulerState {
    /// An offer round whose instances are being written.
    struct OfferRound: Sendable {
        var launches: [PlannedLaunch]
        /// Offers nothing was launched on.
        var unused: [OfferID]
    }

    /// Matches an offer round against the waiting instances: launches are written first (write-ahead), the rest
    /// declined.
    mutating func offersReceived(_ offers: [Offer], now: Now, _ actions: inout [Action]) {
        let operation = self.operation()
        let timestamp = self.timestamp(now)
        var ids = self.ids
        let (launches, unused) = self.match(offers: offers, now: now.uptime, timestamp: timestamp) { ids.next() }
        self.ids = ids
        guard !launches.isEmpty else {
            self.decline(unused, &actions)
            self.afterChange(operation, now: now, &actions)
            return
        }
        self.persist(
            [.saveInstances(launches.flatMap(\.instances))],
            then: .launches(OfferRound(launches: launches, unused: unused), operation),
            &actions
        )
    }

    /// Accepts the offers of a round whose instances are written, or forgets the instances and declines them all.
    mutating func launchesWritten(
        _ round: OfferRound,
        _ outcome: WriteOutcome,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        switch outcome {
        case .succeeded:
            self.accept(round.launches, &actions)
            self.decline(round.unused, &actions)
        case .failed(let failure):
            actions.append(
                .log(LogRecord(.warning, "Could not persist instances; declining offers", ["error": "\(failure)"]))
            )
            self.rollback(round.launches.flatMap(\.instances))
            self.decline(round.unused + round.launches.map(\.offer.id), &actions)
        }
        self.afterChange(operation, now: now, &actions)
    }

    /// Queues the ACCEPT of each launch's offer with its tasks (the instances are written already).
    private mutating func accept(_ launches: [PlannedLaunch], _ actions: inout [Action]) {
        let calls = launches.map { launch in
            var call = self.call(.accept)
            call.accept = .init(
                offerIds: [launch.offer.id],
                operations: [.launch(launch.tasks)],
                filters: Filters(refuseSeconds: self.configuration.declineUnfitOfferSeconds)
            )
            return call
        }
        self.enqueueCalls(calls, .accept, &actions)
        actions.append(
            .log(
                LogRecord(
                    .debug,
                    "Launching instances",
                    ["offers": "\(launches.count)", "count": "\(launches.reduce(0) { $0 + $1.tasks.count })"]
                )
            )
        )
    }

    /// Declines offers for as long as suits why they were unused.
    private mutating func decline(_ offers: [OfferID], _ actions: inout [Action]) {
        guard !offers.isEmpty else { return }
        var call = self.call(.decline)
        call.decline = .init(offerIds: offers, filters: Filters(refuseSeconds: self.refusalSeconds))
        self.enqueueCalls([call], .other, &actions)
    }

    /// How long the master should not offer declined resources again: long when nothing waits, one allocation
    /// interval when the launch window is full (slots free as instances start), a few seconds when the offers did
    /// not fit what waits.
    var refusalSeconds: Double {
        if !self.hasPendingLaunches { return self.configuration.declineOfferSeconds }
        if self.isLaunchWindowFull { return self.configuration.declineThrottledOfferSeconds }
        return self.configuration.declineUnfitOfferSeconds
    }

    /// Sends REVIVE when an app waits for offers and SUPPRESS when none does, unless the master was told already.
    mutating func reviveOrSuppress(now: Now, _ actions: inout [Action]) {
        guard self.link.isSubscribed else { return }
        let wants = self.wantsOffers(now: now.uptime)
        // Assumed in effect once queued; a failed send sets `suppressed` back to unknown (see `callsFinished`).
        if wants && self.link.suppressed != false {
            var call = self.call(.revive)
            call.revive = .init(roles: [self.configuration.role])
            self.link.suppressed = false
            self.enqueueCalls([call], .revive(true), &actions)
        } else if !wants && self.link.suppressed != true {
            var call = self.call(.suppress)
            call.suppress = .init(roles: [self.configuration.role])
            self.link.suppressed = true
            self.enqueueCalls([call], .revive(false), &actions)
        }
    }
}
