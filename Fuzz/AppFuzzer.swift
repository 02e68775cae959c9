// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Fuzzing of app JSON → ``AppValidator`` → ``TaskFactory`` (`REGATTA_FUZZ_TARGET=app`), the path of `POST /v2/apps`
/// and of the launch of every instance.
///
/// Input: an app as Marathon JSON (decoded with `JSONDecoder`, as `MarathonRoutes` does). An app the validator
/// accepts is matched against fixed offers the way `SchedulerState.match` does — a generous one, one with reserved
/// resources, and one from a hostile agent advertising ports near `UInt32.max`, `Int64.max` and `UInt64.max` — and
/// tasks are built for it.
///
/// - Important: Invariants: nothing traps (decoding, validation, port choice, task building, constraint checks);
///   for an accepted app, every task built from an offer that fits fits in that offer (the master would otherwise
///   refuse it), carries no time the master's wire validation refuses (negative grace period, health-check seconds
///   out of range), and reads back unchanged after the fast writer and Foundation's reader.
enum AppFuzzer {
    static let offers: [Offer] = {
        func offer(_ id: String, _ resources: [Resource]) -> Offer {
            let bag = try! Resources(resources)
            return Offer(
                id: OfferID(id),
                frameworkId: FrameworkID("f"),
                agentId: AgentID("a-\(id)"),
                hostname: "host-\(id)",
                resources: bag.allocated(to: "*"),
                attributes: [
                    Attribute(name: "rack", value: .text("r1")), Attribute(name: "zone", value: .scalar(Scalar(2))),
                ],
                role: "*"
            )
        }
        return [
            offer(
                "generous",
                [
                    .scalar("cpus", 1e9), .scalar("mem", 1e12), .scalar("disk", 1e12), .scalar("gpus", 1e6),
                    .ranges("ports", RangeSet([ValueRange(begin: 1, end: 65535)])),
                ]
            ),
            offer(
                "reserved",
                [
                    .scalar("cpus", 1, role: "web"), .scalar("cpus", 1e9), .scalar("mem", 512, role: "web"),
                    .scalar("mem", 1e12), .scalar("disk", 1e12),
                    .ranges("ports", RangeSet([ValueRange(begin: 31000, end: 31002)]), role: "web"),
                    .ranges("ports", RangeSet([ValueRange(begin: 80, end: 90), ValueRange(begin: 31003, end: 31010)])),
                ]
            ),
            offer(
                "hostile",
                [
                    .scalar("cpus", 1e9), .scalar("mem", 1e12), .scalar("disk", 1e12),
                    .ranges(
                        "ports",
                        RangeSet([
                            ValueRange(begin: 4_294_967_290, end: 4_294_967_300),
                            ValueRange(begin: 9_223_372_036_854_775_800, end: 9_223_372_036_854_775_815),
                            ValueRange(begin: 18_446_744_073_709_551_610, end: 18_446_744_073_709_551_615),
                        ])
                    ),
                ]
            ),
        ]
    }()

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let app = try? JSONDecoder().decode(AppDefinition.self, from: Data(bytes)) else { return }
        let violations = AppValidator.validate(app)
        _ = app.differsOnlyInScale(from: app)
        guard violations.isEmpty else { return }

        let placements = self.offers.map {
            ConstraintMatcher.Placement(hostname: $0.hostname, attributes: $0.attributes ?? [])
        }
        var tally = ConstraintTally(constraints: app.constraints, placed: [placements[0]])
        _ = tally.matches(placements[1])
        tally.add(placements[2])
        _ = ConstraintMatcher.matches(app.constraints, candidate: placements[1], placed: placements)

        for offer in self.offers {
            var remaining = offer.bag
            var ports = remaining.ranges("ports")
            for attempt in 0..<2 {
                guard self.fits(app, remaining), let hostPorts = TaskFactory.hostPorts(for: app, available: ports)
                else { break }
                let ids = Instance.makeIDs(appId: app.id, uuid: "00000000-0000-0000-0000-00000000000\(attempt)")
                let task = TaskFactory.makeTask(
                    app: app,
                    taskID: ids.task,
                    offer: offer,
                    hostPorts: hostPorts,
                    role: offer.allocationInfo?.role ?? "*",
                    resources: remaining
                )
                self.check(task, offer: offer, remaining: remaining, app: app)
                remaining -= task.resources
                if !hostPorts.isEmpty { ports = ports.subtracting(RangeSet(values: hostPorts.map(UInt64.init))) }
            }
        }
    }

    /// `SchedulerState.insufficiency(_:remaining:) == nil`.
    private static func fits(_ app: AppDefinition, _ remaining: Resources) -> Bool {
        remaining.scalar("cpus") >= Scalar(app.cpus) && remaining.scalar("mem") >= Scalar(app.mem)
            && (app.disk <= 0 || remaining.scalar("disk") >= Scalar(app.disk))
            && (app.gpus <= 0 || remaining.scalar("gpus") >= Scalar(app.gpus))
    }

    private static func check(_ task: TaskInfo, offer: Offer, remaining: Resources, app: AppDefinition) {
        // Fuzz/Crashes/app/ports-split-reservation.json: the ports are offered, some only under another role.
        let knownPortRoleIssue =
            FuzzCheck.isAllowed("app-ports-split-reservation")
            && remaining.ranges("ports").contains(task.resources.ranges("ports"))
        FuzzCheck.require(
            remaining.contains(task.resources) || knownPortRoleIssue,
            "app \(app.id): task uses \(task.resources), more than offer \(offer.id) has left (\(remaining))"
        )
        if let grace = task.killPolicy?.gracePeriod {
            FuzzCheck.require(
                WireNumber.checkNanoseconds(grace.nanoseconds, field: "grace") == nil,
                "app \(app.id): the task's kill grace period \(grace.nanoseconds) ns would be refused by the master"
            )
        }
        if let check = task.healthCheck {
            for value in [check.delaySeconds, check.intervalSeconds, check.timeoutSeconds, check.gracePeriodSeconds] {
                guard let value else { continue }
                FuzzCheck.require(
                    WireNumber.checkSeconds(value, field: "health_check") == nil,
                    "app \(app.id): health-check seconds \(value) would be refused by the master"
                )
            }
        }
        guard let encoded = try? MesosJSON.encodeFast(task) else {
            FuzzCheck.fail("app \(app.id): its task cannot be encoded: \(task)")
        }
        let decoded = Result { try MesosJSON.decode(TaskInfo.self, from: Data(encoded)) }
        FuzzCheck.require(
            (try? decoded.get()) == task,
            "app \(app.id): task \(String(decoding: encoded, as: UTF8.self)) reads back as \(decoded)"
        )
    }
}
